/**
 * Validation of every RPC param at the coordinator's boundary. Each checker either returns a
 * value of the declared type or throws a VendettaError (INVALID_PARAMS / INVALID_NAME /
 * INVALID_HOST) whose message names the field and whose hint says what is allowed.
 */
import { isAbsolute } from 'node:path';
import { NAME_PATTERN } from '../../agent/protocol';
import { VendettaError } from '../errors';

export type Raw = Record<string, unknown>;

/** The params object itself: an object (or nothing, for requests without params), no unknown keys. */
export function paramsObject(raw: unknown, method: string, allowed: readonly string[]): Raw {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new VendettaError('INVALID_PARAMS', `${method}: params must be an object`, {
      hint: `Send named params: ${allowed.join(', ') || '(none)'}.`,
    });
  }
  const obj = raw as Raw;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new VendettaError('INVALID_PARAMS', `${method}: unknown param "${key}"`, {
        hint: allowed.length ? `Allowed params: ${allowed.join(', ')}.` : `${method} takes no params.`,
      });
    }
  }
  return obj;
}

export function nodeName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !NAME_PATTERN.test(v)) {
    const shown = typeof v === 'string' ? (v === '' ? 'an empty name' : quote(v)) : `a ${typeOf(v)}`;
    throw new VendettaError('INVALID_NAME', `Invalid node ${field}: ${shown}`, {
      hint: 'A node name is 1–63 characters: lowercase letters, digits and "-", starting with a letter or digit (e.g. build-1).',
    });
  }
  return v;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** A DNS name, an IPv4 or an IPv6 address (brackets allowed and removed). Never an option. */
export function host(v: unknown, field = 'host'): string {
  if (typeof v === 'string') {
    const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
    if (HOSTNAME.test(bare) || (bare.includes(':') && IPV6.test(bare))) return bare;
  }
  const shown = typeof v === 'string' ? (v === '' ? 'an empty host' : quote(v)) : `a ${typeOf(v)}`;
  throw new VendettaError('INVALID_HOST', `Invalid ${field}: ${shown}`, {
    hint: 'Give a host name (build-1.example.com), an IPv4 address (10.0.0.5) or an IPv6 address (fd00::5).',
  });
}

export function port(v: unknown, field = 'port'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new VendettaError('INVALID_PARAMS', `Invalid ${field}: ${String(v)}`, {
      hint: 'A port is a whole number from 1 to 65535.',
    });
  }
  return v;
}

const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

export function user(v: unknown): string {
  if (typeof v !== 'string' || !USER.test(v)) {
    throw new VendettaError('INVALID_PARAMS', `Invalid user: ${typeof v === 'string' ? quote(v) : `a ${typeOf(v)}`}`, {
      hint: 'A user name is up to 32 letters, digits, "_", "." or "-", not starting with "-" or ".".',
    });
  }
  return v;
}

/** An absolute path to a private key file (the CLI resolves relative paths before sending). */
export function identityPath(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096 || v.includes('\0') || !isAbsolute(v)) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `Invalid identity: ${typeof v === 'string' ? quote(v) : `a ${typeOf(v)}`}`,
      {
        hint: 'Give the absolute path of a private key file, e.g. ~/.ssh/id_ed25519.',
      },
    );
  }
  return v;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** `SHA256:<base64>` as OpenSSH prints it; returned without base64 padding. */
export function fingerprint(v: unknown, field = 'hostKeyFingerprint'): string {
  if (typeof v !== 'string' || !FINGERPRINT.test(v)) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `Invalid ${field}: ${typeof v === 'string' ? quote(v) : `a ${typeOf(v)}`}`,
      {
        hint: 'A host-key fingerprint looks like SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node prints it).',
      },
    );
  }
  return v.replace(/=$/, '');
}

export function boolean(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean')
    throw new VendettaError('INVALID_PARAMS', `Invalid ${field}: expected true or false, got a ${typeOf(v)}`, {
      hint: `Send ${field} as a JSON boolean.`,
    });
  return v;
}

export function token(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) {
    throw new VendettaError('INVALID_PARAMS', `Invalid ${field}: expected a string of 1–128 characters`, {
      hint: `Send ${field} as a short string, e.g. a random id.`,
    });
  }
  return v;
}

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$/;

export function labels(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new VendettaError('INVALID_PARAMS', 'Invalid labels: expected an object of strings', {
      hint: 'Send labels as {"key": "value"}.',
    });
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_KEY.test(k) || typeof val !== 'string' || val.length > 256) {
      throw new VendettaError('INVALID_PARAMS', `Invalid label ${quote(k)}`, {
        hint: 'Label keys are up to 63 letters, digits, "_", ".", "-" or "/"; values are strings of up to 256 characters.',
      });
    }
    out[k] = val;
  }
  return out;
}

/** One of a few fixed words. */
export function oneOf<T extends string>(choices: readonly T[], field: string): (v: unknown) => T {
  return (v) => {
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      throw new VendettaError(
        'INVALID_PARAMS',
        `Invalid ${field}: ${typeof v === 'string' ? quote(v) : `a ${typeOf(v)}`}`,
        { hint: `${field} is one of: ${choices.join(', ')}.` },
      );
    }
    return v as T;
  };
}

/** Applies `check` when the field is present (undefined means absent). */
export function optional<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}

/** Quoted and escaped, so a hostile value cannot play tricks on a terminal; long ones cut. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}
