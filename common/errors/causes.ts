/** An error and each cause below it, outermost first (bounded, so a cycle cannot loop). */
export function* causeChain(err: unknown): Generator<unknown> {
  let cur = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 10; depth++) {
    yield cur;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
}

/** Messages of an error's cause chain, outermost first (bounded, so a cycle cannot loop). */
export function causeMessages(cause: unknown): string[] {
  return [...causeChain(cause)].map((c) => (c instanceof Error ? c.message : String(c)));
}
