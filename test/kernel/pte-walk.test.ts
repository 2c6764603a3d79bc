/**
 * The PTE walks run as WebAssembly over a scratch copy of each chunk (docs/simulation.md,
 * "The PTE walks"). Here they are held to the rules written out PTE by PTE in plain
 * JavaScript — kscand's of docs/spec/kscand-v3.md §7.6, NUMA balancing's change_pte_range()
 * of docs/numa-balancing.md §3 — on scripted page tables that cross chunk boundaries, stop on
 * nr_to_scan inside a chunk, run out of queue room, mix invalid, non-LRU, top- and slow-tier
 * pages, and use fractional times: every flag, next access time, counter and queued page.
 */
import { describe, expect, it } from 'vitest'
import {
  MmStruct,
  PG_IDLE,
  PG_LRU,
  PG_REFERENCED,
  PG_SHARED,
  PG_UNEVICTABLE,
  PG_YOUNG,
  PTE_PROTNONE,
  Vma,
} from '../../src/kernel/mm.ts'
import { changePteRange, W_NR_TO_SCAN, W_SLOTS, walkPtes } from '../../src/kernel/pte-walk.ts'
import { EXP1, EXP1_SHIFT, MEAN_GAP_MS, NEVER } from '../../src/kernel/rate.ts'

/** Page state as a string: a mismatch is one fast comparison, shown as its bytes. */
const hex = (a: Uint8Array | Uint32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex')

const PAGES = 10_000 // two full chunks of 4096 and a partial one
const TOPTIER = new Uint8Array([1, 1, 0, 0])

/** A scripted page table: every combination of flags, nodes and rates, from a fixed LCG. */
function pageTable(seed: number, sweepMs: number): MmStruct {
  const mm = new MmStruct(1, 1, [new Vma(0, 0, PAGES * 4096, 'anon', false)], TOPTIER.length)
  let s = seed
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s >>> 8
  }
  const flagBits = [
    PG_IDLE,
    PG_YOUNG,
    PG_REFERENCED,
    PG_LRU,
    PG_LRU,
    PG_LRU,
    PG_UNEVICTABLE,
    PG_SHARED,
  ]
  for (let i = 0; i < PAGES; i++) {
    let f = 0
    for (const b of flagBits) if (next() % 4 === 0) f |= b
    mm.flags[i] = f
    mm.node[i] = next() % TOPTIER.length
    mm.rateQ[i] = next() % 8 === 0 ? 0 : 30_000 + (next() % 12_000)
    mm.nextAccess[i] = next() % 10 === 0 ? NEVER : next() % 5000
  }
  mm.rng[0] = seed * 2654435761
  mm.sweepMs = sweepMs
  mm.sweepStartRel = 123.25
  return mm
}

/** docs/spec/kscand-v3.md §7.6 PTE by PTE, as the JavaScript walk had it. */
function referenceWalk(
  mm: MmStruct,
  first: number,
  end: number,
  nowRel: number,
  hotQ: number,
  canQueue: number,
  nrToScan: number,
) {
  const c = {
    visited: 0,
    top: 0,
    slow: 0,
    idle: 0,
    cold: 0,
    queuedHot: 0,
    hotSeen: 0,
    slowAccessed: 0,
  }
  const topAccessed = new Float64Array(TOPTIER.length)
  const queue: [number, number][] = []
  let rng = mm.rng[0] | 0
  let i = first
  for (; i < end; i++) {
    let f = mm.flags[i]
    if (f & (PG_UNEVICTABLE | PG_SHARED)) continue
    const nd = mm.node[i]
    const q = mm.rateQ[i]
    const prevIdle = f & PG_IDLE
    if (mm.nextAccess[i] <= nowRel) {
      f = (f & ~PG_IDLE) | PG_YOUNG
      let next: number
      if (mm.sweepMs === 0) {
        rng = (Math.imul(rng, 1664525) + 1013904223) | 0
        next = nowRel + Math.ceil(EXP1[rng >>> EXP1_SHIFT] * MEAN_GAP_MS[q])
      } else if (mm.sweepMs === Number.POSITIVE_INFINITY) {
        next = NEVER
      } else {
        const period = mm.sweepMs
        const phase = mm.sweepStartRel + (i * period) / mm.nrPages
        next = Math.ceil(phase + (Math.floor((nowRel - phase) / period) + 1) * period)
      }
      mm.nextAccess[i] = Math.min(next, NEVER)
    } else f |= PG_IDLE
    mm.flags[i] = f
    if (--nrToScan === 0) {
      i++
      break
    }
    if (!(f & PG_LRU)) continue
    if (TOPTIER[nd]) {
      c.top++
      if (f & (PG_YOUNG | PG_REFERENCED)) topAccessed[nd]++
      continue
    }
    c.slow++
    const hot = q >= hotQ
    if (hot) c.hotSeen++
    if (!(f & PG_IDLE) && !prevIdle && f & (PG_YOUNG | PG_REFERENCED)) {
      c.slowAccessed++
      if (queue.length < canQueue) {
        queue.push([i, nd])
        if (hot) c.queuedHot++
      }
    } else {
      if (prevIdle) c.cold++
      c.idle++
    }
  }
  mm.rng[0] = rng
  c.visited = i - first
  return { c, queued: queue.length, queue, topAccessed, nrToScan }
}

function wasmWalk(
  mm: MmStruct,
  first: number,
  end: number,
  nowRel: number,
  hotQ: number,
  canQueue: number,
  nrToScan: number,
) {
  const out = new Float64Array(W_SLOTS)
  out[W_NR_TO_SCAN] = nrToScan
  const topAccessed = new Float64Array(TOPTIER.length)
  const qPage = new Uint32Array(7 + end - first)
  const qNid = new Uint8Array(7 + end - first)
  walkPtes(mm, first, end, nowRel, TOPTIER, hotQ, topAccessed, qPage, qNid, 7, canQueue, out)
  const [visited, top, slow, idle, cold, queued, queuedHot, hotSeen, left, slowAccessed] = out
  const queue: [number, number][] = []
  for (let k = 7; k < 7 + queued; k++) queue.push([qPage[k], qNid[k]])
  return {
    c: { visited, top, slow, idle, cold, queuedHot, hotSeen, slowAccessed },
    queued,
    queue,
    topAccessed,
    nrToScan: left,
  }
}

describe("kscand's walk (walkPtes) against hot_vma_idle_pte_entry() PTE by PTE", () => {
  const cases = [
    {
      what: 'Poisson, every PTE, plenty of queue room',
      sweep: 0,
      first: 0,
      end: PAGES,
      now: 2500,
      canQueue: 1e6,
      nrToScan: 1e9,
    },
    {
      what: 'Poisson, fractional time, nr_to_scan runs out in the second chunk',
      sweep: 0,
      first: 3,
      end: PAGES,
      now: 4321.75,
      canQueue: 1e6,
      nrToScan: 5000,
    },
    {
      what: 'Poisson, nr_to_scan as large as a chunk',
      sweep: 0,
      first: 0,
      end: PAGES,
      now: 3000,
      canQueue: 1e6,
      nrToScan: 4096,
    },
    {
      what: 'Poisson, the queue fills up part-way',
      sweep: 0,
      first: 100,
      end: 9000,
      now: 4999,
      canQueue: 300,
      nrToScan: 1e9,
    },
    {
      what: 'Poisson, no queue room at all, a budget that never reaches 0',
      sweep: 0,
      first: 0,
      end: PAGES,
      now: 1000,
      canQueue: 0,
      nrToScan: -5,
    },
    {
      what: 'sequential sweep',
      sweep: 750.5,
      first: 17,
      end: PAGES - 5,
      now: 2600.5,
      canQueue: 1e6,
      nrToScan: 1e9,
    },
    {
      what: 'idle sweep (never accessed again)',
      sweep: Number.POSITIVE_INFINITY,
      first: 0,
      end: PAGES,
      now: 3500,
      canQueue: 1e6,
      nrToScan: 1e9,
    },
  ]
  for (const [n, t] of cases.entries()) {
    it(t.what, () => {
      const a = pageTable(11 + n, t.sweep)
      const b = pageTable(11 + n, t.sweep)
      const hotQ = 36_000
      const want = referenceWalk(a, t.first, t.end, t.now, hotQ, t.canQueue, t.nrToScan)
      const got = wasmWalk(b, t.first, t.end, t.now, hotQ, t.canQueue, t.nrToScan)
      expect(want.c.visited).toBeGreaterThan(0)
      expect(got).toEqual(want)
      expect(hex(b.flags)).toBe(hex(a.flags))
      expect(hex(b.nextAccess)).toBe(hex(a.nextAccess))
      expect(b.rng[0]).toBe(a.rng[0])
    })
  }
})

/** change_pte_range() for prot_numa PTE by PTE, first rule wins. */
function referenceProtNuma(
  mm: MmStruct,
  cpupid: Uint32Array,
  from: number,
  to: number,
  targetNode: number,
  mode: number,
  stamp: number,
  refresh: boolean,
): number[] {
  const marked: number[] = []
  for (let i = from; i < to; i++) {
    const f = mm.flags[i]
    const nd = mm.node[i]
    if (f & PTE_PROTNONE) {
      if (refresh && mode & 2 && !TOPTIER[nd]) cpupid[i] = stamp
      continue
    }
    if (f & PG_SHARED || nd === targetNode || (!(mode & 1) && TOPTIER[nd])) continue
    if (mode & 2 && !TOPTIER[nd]) cpupid[i] = stamp
    mm.flags[i] = f | PTE_PROTNONE
    marked.push(i)
  }
  return marked
}

describe("NUMA balancing's walk (changePteRange) against change_pte_range() PTE by PTE", () => {
  for (const mode of [1, 2, 3]) {
    for (const refresh of [false, true]) {
      for (const targetNode of [-1, 0, 2]) {
        it(`mode ${mode}, refresh ${refresh}, target node ${targetNode}`, () => {
          const a = pageTable(mode * 10 + targetNode, 0)
          const b = pageTable(mode * 10 + targetNode, 0)
          for (const mm of [a, b]) for (let i = 0; i < PAGES; i += 3) mm.flags[i] |= PTE_PROTNONE
          const ca = new Uint32Array(PAGES).map((_, i) => i * 7)
          const cb = ca.slice()
          const stamp = 0x1fffff - mode
          const want = referenceProtNuma(a, ca, 5, PAGES - 2, targetNode, mode, stamp, refresh)
          const marked = new Uint32Array(PAGES)
          const n = changePteRange(
            b.flags,
            b.node,
            cb,
            TOPTIER,
            5,
            PAGES - 2,
            targetNode,
            mode,
            stamp,
            refresh,
            marked,
          )
          expect(want.length).toBeGreaterThan(0)
          expect([...marked.subarray(0, n)]).toEqual(want)
          expect(hex(b.flags)).toBe(hex(a.flags))
          expect(hex(cb)).toBe(hex(ca))
        })
      }
    }
  }
})
