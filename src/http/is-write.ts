/**
 * Whether a request may change state, answered once for every layer that asks: the error
 * text (`write error: …` or `PATH: …`), the rate limit on writes and the state-file hook.
 * GET, HEAD and OPTIONS read; every other method writes.
 */
const READS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

export function isWrite(method: string): boolean {
  return !READS.has(method)
}
