/**
 * The heatmaps of report.html (src/experiments/heatmap.ts): rows of 2^shift pages, at most
 * HEATMAP_ROWS and more than half that, covering the whole mm; at most HEATMAP_COLUMNS columns
 * whatever the run's length; the kernel's per-row counts agree with its page state; the same
 * seed gives the same bytes, and recording them changes nothing of the simulation.
 */
import { describe, expect, it } from 'vitest'
import {
  ABSENT,
  HEATMAP_COLUMNS,
  HEATMAP_ROWS,
  HeatmapRecorder,
  type Heatmaps,
  LEVELS,
  NOT_SCANNED,
} from '../../src/experiments/heatmap.ts'
import { MiB } from '../../src/kernel/constants.ts'
import type { Kernel } from '../../src/kernel/kernel.ts'
import { boot } from '../helpers/kernel.ts'

const bytes = (b64: string) => [...Buffer.from(b64, 'base64')]

/** A 64 MiB hot set on the CXL node (kscand promotes it) and a small uniform process. */
function machine(): Kernel {
  const k = boot()
  k.exec({
    comm: 'gups',
    size: 64 * MiB,
    policy: { mode: 'bind', nodes: [2] },
    workload: { pattern: 'hotset', hot_fraction: 0.25, hot_access_fraction: 0.9 },
    access_rate: 1e6,
  })
  k.exec({ comm: 'tiny', size: 40 * 4096, workload: { pattern: 'uniform' }, access_rate: 100 })
  return k
}

/** Samples every `intervalMs` up to `endMs`, as a run does, with `spawnAt` a late process. */
function record(
  k: Kernel,
  endMs: number,
  intervalMs: number,
  known: boolean,
  spawnAt = Number.NaN,
): Heatmaps {
  const samples = Math.floor(endMs / intervalMs) + 1
  const rec = new HeatmapRecorder(k, known ? samples : null)
  for (let t = 0; t <= endMs; t += intervalMs) {
    k.run(t)
    if (t === spawnAt) k.exec({ comm: 'late', size: 8 * MiB, workload: { pattern: 'uniform' } })
    rec.sample()
  }
  return rec.result()
}

describe('heatmap rows', () => {
  it('are runs of 2^shift pages, at most HEATMAP_ROWS and more than half that, covering the mm', () => {
    const k = machine()
    k.recordPageBins(HEATMAP_ROWS)
    const [gups, tiny] = k.processList()
    const b = gups.mm.bins!
    expect(gups.mm.nrPages).toBe(16384)
    expect(b.rows).toBe(128)
    expect(2 ** b.shift * b.rows).toBe(gups.mm.nrPages)
    // Rows of 128 pages: every 8th page's Accessed bit counted; a row a page for tiny.
    expect(b.stride).toBe(8)
    expect(tiny.mm.bins!.stride).toBe(1)
    // An mm of fewer pages than rows: a row a page.
    expect(tiny.mm.bins!.rows).toBe(40)
    expect(tiny.mm.bins!.shift).toBe(0)
    // Odd sizes: the last row holds the rest.
    k.exec({ comm: 'odd', size: 1000 * 4096, workload: { pattern: 'uniform' } })
    const odd = k.processList()[2].mm.bins!
    expect(odd.rows).toBeLessThanOrEqual(HEATMAP_ROWS)
    expect(odd.rows).toBeGreaterThan(HEATMAP_ROWS / 2)
    expect((odd.rows - 1) * 2 ** odd.shift).toBeLessThan(1000)
    expect(odd.rows * 2 ** odd.shift).toBeGreaterThanOrEqual(1000)
  })

  it("count the top-tier pages the kernel's page state has, as kscand promotes them", () => {
    const k = machine()
    k.recordPageBins(HEATMAP_ROWS)
    k.run(10_000)
    const mm = k.processList()[0].mm
    const b = mm.bins!
    const top = new Array<number>(b.rows).fill(0)
    for (let i = 0; i < mm.nrPages; i++) top[i >>> b.shift] += k.machine.toptier[mm.node[i]]
    expect(Array.from(b.top)).toEqual(top)
    expect(top.reduce((a, v) => a + v, 0)).toBeGreaterThan(0)
  })
})

describe("the kernel's verdict counts", () => {
  it('count, per row, the pages whose Accessed bit a walk found set', () => {
    const k = boot()
    const pid = k.exec({ comm: 'idle', size: 256 * 4096, workload: { pattern: 'idle' } }).pid
    k.recordPageBins(HEATMAP_ROWS)
    const b = k.process(pid).mm.bins!
    expect(b.shift).toBe(1)
    const walked = () => b.scanned.reduce((a, v) => a + v, 0)
    const untilWalked = (pages: number) => {
      for (let t = k.now; walked() < pages && t < 600_000; t += 50) k.run(t)
      expect(walked()).toBe(pages)
    }
    // The first scan finds every page young from its fault.
    untilWalked(256)
    expect(b.accessed.reduce((a, v) => a + v, 0)).toBe(256)
    b.scanned.fill(0)
    b.accessed.fill(0)
    // An idle workload touches nothing: only the pages touched now are young at the next scan.
    const base = k.process(pid).mm.vmas[0].start
    for (const page of [0, 5, 200]) k.touch(pid, base + page * 4096)
    untilWalked(256)
    const rows = Array.from(b.accessed)
    expect(rows.reduce((a, v) => a + v, 0)).toBe(3)
    expect([rows[0], rows[2], rows[100]]).toEqual([1, 1, 1])
  })
})

describe('heatmap columns', () => {
  it('of a run of known length: equal spans, at most HEATMAP_COLUMNS, to its end', () => {
    const h = record(machine(), 300_000, 1000, true)
    expect(h.ends_s.length).toBeLessThanOrEqual(HEATMAP_COLUMNS)
    // 300 intervals in spans of 3.
    expect(h.ends_s).toHaveLength(100)
    expect(h.ends_s.at(-1)).toBe(300)
    expect(h.ends_s.slice(0, 3)).toEqual([3, 6, 9])
    for (const p of h.processes) {
      for (const panel of [p.rate, p.verdicts, p.placement]) {
        expect(bytes(panel)).toHaveLength(p.addresses.length * h.ends_s.length)
      }
    }
  })

  it('of a run of unknown length: merged in pairs as it grows, never more than HEATMAP_COLUMNS', () => {
    const h = record(machine(), 300_000, 1000, false)
    expect(h.ends_s.length).toBeLessThanOrEqual(HEATMAP_COLUMNS)
    expect(h.ends_s.length).toBeGreaterThan(HEATMAP_COLUMNS / 4)
    expect(h.ends_s.at(-1)).toBe(300)
    for (let c = 1; c < h.ends_s.length; c++) expect(h.ends_s[c]).toBeGreaterThan(h.ends_s[c - 1])
  })

  it('show where a process did not exist, and what kscand found where it did', () => {
    const h = record(machine(), 20_000, 1000, true, 10_000)
    const [gups, , late] = h.processes
    expect(late.comm).toBe('late')
    const cols = h.ends_s.length
    const lateVerdicts = bytes(late.verdicts)
    // Columns ending at 1 … 9 s: before it was spawned (just before the 10 s sample).
    for (let c = 0; c < 9; c++) expect(lateVerdicts[c]).toBe(ABSENT)
    for (let c = 9; c < cols; c++) expect(lateVerdicts[c]).not.toBe(ABSENT)
    // gups: the hot quarter rows have the higher rate; kscand visited pages and found accessed
    // ones; its pages start on the CXL node and some rows end on the top tier.
    const rate = bytes(gups.rate)
    const rows = gups.addresses.length
    const at = (panel: number[], r: number, c: number) => panel[r * cols + c]
    expect(at(rate, 0, cols - 1)).toBe(LEVELS)
    expect(at(rate, rows - 1, cols - 1)).toBe(1)
    const verdicts = bytes(gups.verdicts)
    expect(verdicts.some((v) => v !== NOT_SCANNED && v > 0)).toBe(true)
    const placement = bytes(gups.placement)
    expect(at(placement, 0, 0)).toBe(0)
    expect(Math.max(...placement)).toBe(LEVELS)
  })
})

describe('heatmap processes', () => {
  it('beyond the bound have none, and are named', () => {
    const k = machine()
    const rec = new HeatmapRecorder(k, 3, { rows: HEATMAP_ROWS, columns: 4, processes: 1 })
    for (const t of [0, 1000, 2000]) {
      k.run(t)
      rec.sample()
    }
    const h = rec.result()
    expect(h.processes.map((p) => p.comm)).toEqual(['gups'])
    expect(h.left_out).toEqual(['tiny:1001'])
  })
})

describe('heatmaps are deterministic', () => {
  it('the same seed gives the same heatmaps, and recording them changes nothing', () => {
    const a = record(machine(), 20_000, 1000, false)
    const b = record(machine(), 20_000, 1000, false)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    const recorded = machine()
    record(recorded, 20_000, 1000, true)
    const bare = machine()
    for (let t = 0; t <= 20_000; t += 1000) bare.run(t)
    expect(recorded.vmstat.v).toEqual(bare.vmstat.v)
    expect(recorded.processStats(1000)).toEqual(bare.processStats(1000))
  })
})
