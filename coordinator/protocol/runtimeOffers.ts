/**
 * What the coordinator can bring a node without a usable Node.js, as carried in the `offers` of a
 * NODE_RUNTIME_MISSING error; read back (validated: they crossed a socket) by the CLI and VS Code.
 */
export interface RuntimeOffer {
  kind: 'upload' | 'package';
  ok: boolean;
  /** What it would do, or why it cannot. */
  detail: string;
  /** For `package`: the commands it would run. */
  commands?: string[];
}

/** The well-formed offers in an error's `details.offers`; none when it has none. */
export function runtimeOffersIn(raw: unknown): RuntimeOffer[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (o): o is RuntimeOffer =>
      typeof o === 'object' &&
      o !== null &&
      (o.kind === 'upload' || o.kind === 'package') &&
      typeof o.ok === 'boolean' &&
      typeof o.detail === 'string',
  );
}
