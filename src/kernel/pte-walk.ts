/**
 * The PTE walks, the simulation's hot path: kscand's hot_vma_idle_pte_entry()
 * (docs/spec/kscand-v3.md §7.6) and NUMA balancing's change_pte_range() for prot_numa
 * (docs/numa-balancing.md §3). Both share one design (docs/simulation.md, "The PTE walks"): a
 * chunk of at most CHUNK PTEs of the mm's typed arrays is copied into the scratch memory of
 * one WebAssembly module (walk-wasm.ts), its loop applies the rule there, and what the rule
 * changed is copied back. The typed arrays stay the one source of truth; the scratch memory
 * holds nothing between two calls but the two lookup tables of rate.ts.
 */
import type { MmStruct } from './mm.ts'
import { EXP1, MEAN_GAP_MS } from './rate.ts'
import {
  CHUNK,
  M_CPUPID,
  M_EXP1,
  M_FLAGS,
  M_GAP,
  M_MARKED,
  M_NEXT,
  M_NODE,
  M_OUT,
  M_QNID,
  M_QPAGE,
  M_RATEQ,
  M_TOPACC,
  M_TOPTIER,
  O_COLD,
  O_HOT_SEEN,
  O_IDLE,
  O_LEFT,
  O_QUEUED,
  O_QUEUED_HOT,
  O_RNG,
  O_SLOW_ACCESSED,
  O_TOP,
  WALK_WASM,
} from './walk-wasm.ts'

/** The part of the WebAssembly JS API used here (@types/node 20 does not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: unknown }
}

interface WalkExports {
  memory: { buffer: ArrayBuffer }
  walk(
    n: number,
    base: number,
    nowRel: number,
    nowU: number,
    hotQ: number,
    canQueue: number,
    left: number,
    rng: number,
    sweepMs: number,
    sweepStartRel: number,
    nrPages: number,
  ): number
  protNuma(
    n: number,
    base: number,
    targetNode: number,
    normal: number,
    tiering: number,
    stamp: number,
    refresh: number,
  ): number
}

const wasm = new WebAssembly.Instance(new WebAssembly.Module(WALK_WASM))
  .exports as unknown as WalkExports
// The memory never grows, so these views stay attached.
const buf = wasm.memory.buffer
new Float64Array(buf, M_EXP1, EXP1.length).set(EXP1)
new Float64Array(buf, M_GAP, MEAN_GAP_MS.length).set(MEAN_GAP_MS)
const sToptier = new Uint8Array(buf, M_TOPTIER, 256)
const sTopAcc = new Int32Array(buf, M_TOPACC, 256)
const sOut = new Int32Array(buf, M_OUT, 16)
const sNode = new Uint8Array(buf, M_NODE, CHUNK)
const sFlags = new Uint8Array(buf, M_FLAGS, CHUNK)
const sRateQ = new Uint16Array(buf, M_RATEQ, CHUNK)
const sNext = new Uint32Array(buf, M_NEXT, CHUNK)
const sCpupid = new Uint32Array(buf, M_CPUPID, CHUNK)
const sQPage = new Uint32Array(buf, M_QPAGE, CHUNK)
const sQNid = new Uint8Array(buf, M_QNID, CHUNK)
const sMarked = new Uint32Array(buf, M_MARKED, CHUNK)
const walk = wasm.walk
const protNuma = wasm.protNuma

function loadToptier(toptier: Uint8Array): void {
  sToptier.set(toptier)
}

/** Indices into the `out` array of walkPtes(). */
export const W_VISITED = 0
export const W_TOP = 1
export const W_SLOW = 2
export const W_IDLE = 3
export const W_COLD = 4
export const W_QUEUED = 5
export const W_QUEUED_HOT = 6
export const W_HOT_SEEN = 7
export const W_NR_TO_SCAN = 8
/** Slow-tier pages judged hot: Σ nodeinfo[nid].nr_accessed over non-top-tier nodes. */
export const W_SLOW_ACCESSED = 9
export const W_SLOTS = 10

/**
 * Walks PTEs [first, end) of `mm`: test-and-clear of the Accessed bit with the PG_idle /
 * PG_young bookkeeping, accessed counts, and the slow-tier hot rule. Of the kernel's per-node
 * counts only what V3 reads is kept: nr_accessed per top-tier node (the target-node
 * heuristic) and its sum over the slow tier (the scan's `total`); nr_scanned is never read. Hot
 * pages are appended to `qPage`/`qNid` from `qLen` on, at most `canQueue` of them (the
 * caller guarantees room for end − first). `out[W_NR_TO_SCAN]` carries nr_to_scan in and
 * out; the walk stops after the PTE that takes it to 0. Counters land in `out`.
 */
export function walkPtes(
  mm: MmStruct,
  first: number,
  end: number,
  nowRel: number,
  toptier: Uint8Array,
  hotQ: number,
  topAccessed: Float64Array,
  qPage: Uint32Array,
  qNid: Uint8Array,
  qLen: number,
  canQueue: number,
  out: Float64Array,
): void {
  loadToptier(toptier)
  const nodes = toptier.length
  const { node, flags, rateQ, nextAccess } = mm
  let nrToScan = out[W_NR_TO_SCAN]
  let rng = mm.rng[0] | 0
  let top = 0
  let idle = 0
  let cold = 0
  let queued = 0
  let queuedHot = 0
  let hotSeen = 0
  let slowAccessed = 0
  // kernel.ts keeps 0 ≤ nowRel < 2³² − 1, so nextAccess ≤ nowRel ⟺ nextAccess ≤ floor(nowRel).
  const nowU = Math.floor(nowRel) | 0
  let i = first
  while (i < end) {
    const n = Math.min(end - i, CHUNK)
    // `--nrToScan === 0` can only happen in this chunk for an integer in [1, n].
    const left = nrToScan >= 1 && nrToScan <= n && Number.isInteger(nrToScan) ? nrToScan : 0
    sNode.set(node.subarray(i, i + n))
    sFlags.set(flags.subarray(i, i + n))
    sRateQ.set(rateQ.subarray(i, i + n))
    sNext.set(nextAccess.subarray(i, i + n))
    const visited = walk(
      n,
      i,
      nowRel,
      nowU,
      hotQ,
      Math.min(canQueue - queued, n), // an i32: a chunk queues at most n pages
      left,
      rng,
      mm.sweepMs,
      mm.sweepStartRel,
      mm.nrPages,
    )
    flags.set(sFlags.subarray(0, visited), i)
    nextAccess.set(sNext.subarray(0, visited), i)
    const q = sOut[O_QUEUED]
    if (q > 0) {
      qPage.set(sQPage.subarray(0, q), qLen + queued)
      qNid.set(sQNid.subarray(0, q), qLen + queued)
    }
    for (let nd = 0; nd < nodes; nd++) {
      if (sTopAcc[nd] !== 0) {
        topAccessed[nd] += sTopAcc[nd]
        sTopAcc[nd] = 0
      }
    }
    top += sOut[O_TOP]
    idle += sOut[O_IDLE]
    cold += sOut[O_COLD]
    queued += q
    queuedHot += sOut[O_QUEUED_HOT]
    hotSeen += sOut[O_HOT_SEEN]
    slowAccessed += sOut[O_SLOW_ACCESSED]
    rng = sOut[O_RNG] | 0
    nrToScan -= left - sOut[O_LEFT]
    i += visited
    if (visited < n) break // nr_to_scan ran out
  }
  mm.rng[0] = rng
  mm.bins?.visit(flags, first, i)
  out[W_VISITED] = i - first
  out[W_TOP] = top
  // Every slow-tier page is counted once, as accessed or as idle.
  out[W_SLOW] = slowAccessed + idle
  out[W_IDLE] = idle
  out[W_COLD] = cold
  out[W_QUEUED] = queued
  out[W_QUEUED_HOT] = queuedHot
  out[W_HOT_SEEN] = hotSeen
  out[W_NR_TO_SCAN] = nrToScan
  out[W_SLOW_ACCESSED] = slowAccessed
}

/**
 * change_pte_range() with MM_CP_PROT_NUMA over pages [from, to), first rule wins: already
 * PROT_NONE (no time refresh unless `refresh`); mapped shared; on the target node; top tier
 * without the NORMAL bit; then, slow tier with the TIERING bit, the scan time goes into
 * _last_cpupid; the PTE becomes PROT_NONE and its page is appended to `marked`. `mode` is
 * kernel.numa_balancing (bit 0 NORMAL, bit 1 MEMORY_TIERING). Returns the PTEs changed.
 */
export function changePteRange(
  flags: Uint8Array,
  node: Uint8Array,
  cpupid: Uint32Array,
  toptier: Uint8Array,
  from: number,
  to: number,
  targetNode: number,
  mode: number,
  stamp: number,
  refresh: boolean,
  marked: Uint32Array,
): number {
  loadToptier(toptier)
  const normal = mode & 1
  const tiering = (mode >> 1) & 1
  let changed = 0
  for (let i = from; i < to; i += CHUNK) {
    const n = Math.min(to - i, CHUNK)
    sFlags.set(flags.subarray(i, i + n))
    sNode.set(node.subarray(i, i + n))
    // _last_cpupid is written only in tiering mode.
    if (tiering) sCpupid.set(cpupid.subarray(i, i + n))
    const c = protNuma(n, i, targetNode, normal, tiering, stamp | 0, refresh ? 1 : 0)
    if (c > 0) {
      flags.set(sFlags.subarray(0, n), i)
      marked.set(sMarked.subarray(0, c), changed)
    }
    if (tiering) cpupid.set(sCpupid.subarray(0, n), i)
    changed += c
  }
  return changed
}
