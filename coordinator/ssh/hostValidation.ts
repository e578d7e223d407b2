/**
 * Checks on a node's host, port and user before any of them is used: they come from a CLI
 * argument, an RPC message or a hand-edited nodes.yaml. ssh2 parses no options, but a host
 * like `-oProxyCommand=…` or `a;b` also lands in hints, logs and ssh_config: refuse it here.
 */
import { isIP } from 'node:net';
import { NAME_PATTERN } from '../../agent/protocol';
import { VendettaError } from '../errors';

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

export function validateHost(host: string): void {
  if (typeof host !== 'string' || host.length === 0) {
    throw new VendettaError('INVALID_HOST', 'The host is empty', {
      hint: 'Give a host name or an IP address, e.g. `--host build-1.example.com`.',
    });
  }
  if (isIP(host) || HOSTNAME.test(host)) return;
  const shown = JSON.stringify(host.length > 80 ? host.slice(0, 80) + '…' : host);
  const why = host.startsWith('-')
    ? 'it starts with "-"'
    : /[\s\p{Cc}]/u.test(host)
      ? 'it contains whitespace or control characters'
      : /[;&|$`'"\\<>(){}[\]*?!#~^%,=]/.test(host)
        ? 'it contains shell or option characters'
        : 'it is not a host name or an IP address';
  throw new VendettaError('INVALID_HOST', `Invalid host ${shown}: ${why}`, {
    hint: 'A host is a DNS name (letters, digits, "-" and ".") or an IPv4/IPv6 address.',
    details: { host },
  });
}

export function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VendettaError('INVALID_PARAMS', `Invalid port ${String(port)}`, {
      hint: 'A port is a whole number from 1 to 65535.',
    });
  }
}

export function validateUser(user: string): void {
  if (typeof user !== 'string' || !USER.test(user)) {
    throw new VendettaError('INVALID_PARAMS', `Invalid user name ${JSON.stringify(user)}`, {
      hint: 'A user name is letters, digits, "_", "." and "-", at most 32 characters, not starting with "-" or ".".',
    });
  }
}

export function validateNodeName(name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new VendettaError('INVALID_NAME', `Invalid node name ${JSON.stringify(name)}`, {
      hint: 'A node name is 1–63 lowercase letters, digits and "-", starting with a letter or digit.',
    });
  }
}

/** All four checks of a target; throws the first problem. */
export function validateTarget(t: { name: string; host: string; port: number; user: string }): void {
  validateNodeName(t.name);
  validateHost(t.host);
  validatePort(t.port);
  validateUser(t.user);
}
