/**
 * Per-page access rates, stored as one Uint16 per page (the 8-bytes-per-page budget).
 * q = 0 means "never accessed"; otherwise rate(q) = 2^((q − 32768) / 1024) accesses per
 * second, i.e. from 2.3e-10/s to 4.3e9/s with 0.068 % resolution.
 *
 * A page's accesses are a Poisson process of that rate. Its PTE Accessed bit is set once the
 * next access has happened, so each page keeps only the virtual time of its next access:
 * the cost of simulating a second depends on the PTEs scanned, not on the access rate.
 */

export const RATE_STEPS_PER_OCTAVE = 1024
const Q_ZERO = 32768
export const Q_MAX = 65535

/** Accesses per second of each quantized rate. */
export const RATE = new Float64Array(65536)
/** Mean milliseconds between accesses of each quantized rate (Infinity for q = 0). */
export const MEAN_GAP_MS = new Float64Array(65536)
/**
 * Quantiles of Exp(1) at (i + 0.5) / 4096, indexed by the top 12 bits of a random word
 * (EXP1_SHIFT). 32 KiB, so the PTE loop's random lookups stay in the L1 cache.
 */
export const EXP1 = new Float64Array(4096)
export const EXP1_SHIFT = 20

RATE[0] = 0
MEAN_GAP_MS[0] = Number.POSITIVE_INFINITY
for (let q = 1; q < 65536; q++) {
  RATE[q] = 2 ** ((q - Q_ZERO) / RATE_STEPS_PER_OCTAVE)
  MEAN_GAP_MS[q] = 1000 / RATE[q]
}
for (let i = 0; i < 4096; i++) EXP1[i] = -Math.log(1 - (i + 0.5) / 4096)

export function quantizeRate(perSecond: number): number {
  return perSecond > 0 ? quantizeLog2Rate(Math.log2(perSecond)) : 0
}

/** Quantized rate from log2(rate), for generators that already work in the log domain. */
export function quantizeLog2Rate(log2Rate: number): number {
  const q = Math.round(log2Rate * RATE_STEPS_PER_OCTAVE) + Q_ZERO
  return Math.min(Math.max(q, 1), Q_MAX)
}

/** Virtual time stored for "no access pending" (rate 0). */
export const NEVER = 0xffffffff
