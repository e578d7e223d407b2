/** Rejects with `onTimeout()` when `p` has not settled within `ms` (the timer never outlives it). */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  onTimeout: () => Error = () => new Error(`no answer within ${ms} ms`),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}
