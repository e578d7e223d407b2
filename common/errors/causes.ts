/** Messages of an error's cause chain, outermost first (bounded, so a cycle cannot loop). */
export function causeMessages(cause: unknown): string[] {
  const out: string[] = [];
  let cur = cause;
  while (cur !== undefined && cur !== null && out.length < 10) {
    out.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}
