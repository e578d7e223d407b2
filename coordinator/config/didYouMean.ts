/** "Did you mean …?" for misspelt keys and enum values: the closest candidate by edit distance. */

/** Damerau–Levenshtein distance (optimal string alignment): a swapped pair of letters costs 1. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      const prev = d[i - 1]!;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      row[j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The candidate closest to `word`, compared case-insensitively and ignoring `-`/`_`, if it is
 * close enough to be a likely typo (at most a third of the word's length, and at most 3 edits).
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const w = norm(word);
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const nc = norm(c);
    if (Math.abs(nc.length - w.length) > limit) continue; // cannot be close; skips long keys cheaply
    const dist = editDistance(w, nc);
    if (dist < bestDist) [best, bestDist] = [c, dist];
  }
  return best !== undefined && bestDist <= limit ? best : undefined;
}
