/** Questions on the terminal (stderr, so stdout stays the command's result). */
import { createInterface } from 'node:readline/promises';

/** One line of answer, trimmed. */
export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** true only for y / yes (any case). */
export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await askLine(question));
}
