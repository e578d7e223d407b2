/**
 * What a workspace secret may be, checked alike on the laptop (reading `secretsFile`) and at the
 * agent's boundary. A problem is told by the variable's name, never its value.
 */

/** An environment variable name; the VENDETTA_ prefix is Vendetta's own. */
export const SECRET_NAME = /^(?!VENDETTA_)[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_SECRETS = 256;
export const MAX_SECRET_BYTES = 32 * 1024;

/**
 * Why a name/value pair cannot be a secret, or undefined when it can. A line break cannot be
 * carried by ~/.ssh/environment, which holds one variable per line.
 */
export function secretProblem(name: string, value: unknown): string | undefined {
  if (!SECRET_NAME.test(name))
    return `${JSON.stringify(name.slice(0, 64))} is not an environment variable name (letters, digits, _; not VENDETTA_…)`;
  if (typeof value !== 'string') return `the value of ${name} is not text`;
  if (/[\r\n\0]/.test(value))
    return `the value of ${name} holds a line break or NUL, which a login environment cannot carry`;
  if (Buffer.byteLength(value) > MAX_SECRET_BYTES) return `the value of ${name} is longer than 32 KiB`;
  return undefined;
}
