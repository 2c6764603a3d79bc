/**
 * Deterministic randomness. The simulation never calls Math.random(): every stream is
 * derived from the machine seed, so the same seed and commands give the same trace.
 */

/** murmur3 fmix32: a bijective 32-bit mixer. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Derives an independent 32-bit seed for a named stream (e.g. one per process). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = fmix32(seed >>> 0 || 0x9e3779b9)
  for (const p of parts) h = fmix32((h ^ (p >>> 0)) + 0x9e3779b9)
  return h
}

/**
 * A keyed pseudo-random permutation of [0, n): a balanced Feistel network on the smallest
 * even power of two ≥ n, with cycle walking. Scrambled Zipf uses it to scatter ranks over
 * the address space as YCSB's ScrambledZipfianGenerator does, but without hash collisions.
 */
export class Permutation {
  private readonly halfBits: number
  private readonly mask: number
  private readonly keys: number[]

  constructor(
    readonly n: number,
    seed: number,
  ) {
    let bits = 2
    while (2 ** bits < n) bits += 2
    this.halfBits = bits / 2
    this.mask = (1 << this.halfBits) - 1
    this.keys = [0, 1, 2, 3].map((i) => deriveSeed(seed, i))
  }

  map(x: number): number {
    const { halfBits, mask, keys, n } = this
    do {
      let l = Math.floor(x / 2 ** halfBits)
      let r = x & mask
      for (const k of keys) {
        const f = fmix32(r ^ k) & mask
        const nl = r
        r = (l ^ f) & mask
        l = nl
      }
      x = l * 2 ** halfBits + r
    } while (x >= n)
    return x
  }
}
