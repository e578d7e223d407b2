/**
 * `node add` on a node without a usable Node.js: shows what vendetta can do about it (the offers
 * in the coordinator's error) and asks which, on a terminal. Nothing is installed unless chosen.
 */
import type { VendettaError } from '../errors';
import { runtimeOffersIn, type RuntimeOffer } from '../protocol';
import { writeErr } from './output';
import { askLine } from './prompt';

export type RuntimeAnswer = 'upload' | 'package' | undefined;

/** The offers carried by a NODE_RUNTIME_MISSING error (validated: they crossed a socket). */
export function offersOf(e: VendettaError): RuntimeOffer[] {
  return runtimeOffersIn(e.details?.offers);
}

/** What the prompt shows, and which answer picks which offer. */
export function offerMenu(e: VendettaError): { text: string; choices: Map<string, 'upload' | 'package'> } {
  const lines = [`${e.message}.`];
  const choices = new Map<string, 'upload' | 'package'>();
  for (const o of offersOf(e)) {
    if (o.ok) {
      const key = String(choices.size + 1);
      choices.set(key, o.kind);
      lines.push(`  ${key}) ${o.detail}`);
      for (const c of o.commands ?? []) lines.push(`       ${c}`);
    } else {
      lines.push(`  -  not possible: ${o.detail}`);
    }
  }
  return { text: lines.join('\n') + '\n', choices };
}

/** Asks on the terminal; undefined when nothing can be offered or the user declines. */
export async function askRuntime(e: VendettaError): Promise<RuntimeAnswer> {
  const { text, choices } = offerMenu(e);
  if (choices.size === 0) return undefined;
  writeErr(text);
  const answer = await askLine(`Bring the agent a Node.js this way? [${[...choices.keys()].join('/')}/N] `);
  return choices.get(answer);
}
