/** A node as the SSH layer sees it. */
export interface SshNodeTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  /** Private key file; absent: the ssh-agent, then vendetta's generated key. */
  identity?: string;
}

/** `user@host` or `-p 2222 user@host`, for hints that name an ssh command line. */
export function sshDestination(t: { host: string; port: number; user: string }): string {
  return t.port === 22 ? `${t.user}@${t.host}` : `-p ${t.port} ${t.user}@${t.host}`;
}

/** `host:port` for messages (`[v6]:port` for IPv6). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
