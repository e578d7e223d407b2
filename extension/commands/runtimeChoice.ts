/**
 * Add Node on a node without a usable Node.js: the coordinator's NODE_RUNTIME_MISSING error carries
 * what it can bring (an upload of its own Node.js, the distribution's package), each with whether
 * it works there. Pure: the modal's buttons and text, so unit tests read them without VS Code.
 */
import { ResponseError } from 'vscode-jsonrpc';
import { runtimeOffersIn, type RuntimeOffer } from '../../coordinator/protocol';

export interface RuntimeButton {
  label: string;
  how: 'upload' | 'package';
}

function offers(err: unknown): RuntimeOffer[] | undefined {
  if (!(err instanceof ResponseError)) return undefined;
  const data = err.data as { code?: unknown; details?: { offers?: unknown } } | undefined;
  if (data?.code !== 'NODE_RUNTIME_MISSING' || !Array.isArray(data.details?.offers)) return undefined;
  return runtimeOffersIn(data.details.offers);
}

/** The modal for a NODE_RUNTIME_MISSING error with something to offer; undefined otherwise. */
export function runtimeChoice(err: unknown): { message: string; detail: string; buttons: RuntimeButton[] } | undefined {
  const list = offers(err);
  if (!list || !list.some((o) => o.ok)) return undefined;
  const buttons = list
    .filter((o) => o.ok)
    .map((o) => ({ how: o.kind, label: o.kind === 'upload' ? 'Upload Node.js' : 'Install Package' }));
  const detail = list
    .map((o) => `${o.ok ? '•' : '✕'} ${o.kind === 'upload' ? 'Upload' : 'Package'}: ${o.detail}`)
    .join('\n');
  return { message: `${(err as Error).message}. Bring the agent a Node.js?`, detail, buttons };
}
