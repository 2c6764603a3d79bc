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
  private readonly k0: number
  private readonly k1: number
  private readonly k2: number
  private readonly k3: number

  constructor(
    readonly n: number,
    seed: number,
  ) {
    let bits = 2
    while (2 ** bits < n) bits += 2
    // Halves are shifted and or-ed as int32: a domain of 2^30 covers 256 GiB of pages 16 times.
    if (bits > 30) throw new RangeError(`a permutation of ${n} elements`)
    this.halfBits = bits / 2
    this.mask = (1 << this.halfBits) - 1
    this.k0 = deriveSeed(seed, 0)
    this.k1 = deriveSeed(seed, 1)
    this.k2 = deriveSeed(seed, 2)
    this.k3 = deriveSeed(seed, 3)
  }

  /** Four Feistel rounds, unrolled (the boot maps every page of a Zipf process). */
  map(x: number): number {
    const { halfBits: h, mask, n, k0, k1, k2, k3 } = this
    do {
      // Each round: (l, r) ← (r, l ^ F(r)).
      const l0 = x >>> h
      const r0 = x & mask
      const r1 = (l0 ^ fmix32(r0 ^ k0)) & mask
      const r2 = (r0 ^ fmix32(r1 ^ k1)) & mask
      const r3 = (r1 ^ fmix32(r2 ^ k2)) & mask
      const r4 = (r2 ^ fmix32(r3 ^ k3)) & mask
      x = (r3 << h) | r4
    } while (x >= n)
    return x
  }
}
