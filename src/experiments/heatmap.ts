/**
 * A heatmap per process of its address space over time, as damo's heatmap shows one. Rows are
 * runs of 2^shift consecutive pages of the mm (its VMAs laid end to end): at most HEATMAP_ROWS,
 * and more than half that many once the mm has that many pages. Columns are spans of recorded
 * intervals, at most HEATMAP_COLUMNS: a run of known length gets spans of equal numbers of
 * intervals from the start; one that outgrows them (until_budgets_spent) merges pairs of
 * columns and spans twice as many intervals from then on. Three panels:
 * - the true access rate: the workload model's mean accesses per second of a page of the row
 *   (the ground truth kscand never sees), at the column's end;
 * - kscand's verdicts: of the row's pages its walks went over during the column, the share whose
 *   Accessed bit they found set (counted on every stride-th page: PageBins);
 * - placement: the share of the row's pages on a top-tier node, at the column's end.
 * The kernel keeps the per-row counts (PageBins in src/kernel/mm.ts), so a column costs a
 * number of rows, not pages; the rate is recomputed over the pages only when the workload's
 * rates changed. The size is bounded whatever the run: at most HEATMAP_PROCESSES processes ×
 * 3 panels × HEATMAP_ROWS × HEATMAP_COLUMNS bytes (≈ 0.8 MB, base64 in the report).
 */
import type { Kernel } from '../kernel/kernel.ts'
import type { MmStruct, PageBins, Process } from '../kernel/mm.ts'
import { RATE } from '../kernel/rate.ts'

export const HEATMAP_ROWS = 128
export const HEATMAP_COLUMNS = 128
/** Processes with a heatmap (the first ones seen); the rest are named as left out. */
export const HEATMAP_PROCESSES = 16

/** Byte values of the panels. */
export const ABSENT = 255
export const NOT_SCANNED = 254
export const LEVELS = 250

/** One column of one process, per row, before quantization. */
export interface Column {
  /** Mean accesses per second of a page. */
  readonly rate: Float64Array
  /** Share of pages on a top-tier node. */
  readonly top: Float64Array
  /**
   * Visits by kscand's walks of the row's sampled pages (PageBins.stride), and of those the
   * ones that found the Accessed bit set.
   */
  readonly scanned: Float64Array
  readonly accessed: Float64Array
}

/** Pages in row r of the bins of an mm of n pages. */
const rowPages = (b: PageBins, r: number, n: number) =>
  Math.min(n, (r + 1) << b.shift) - (r << b.shift)

/** Mean rate of a page in each row (the ground truth: mm.rateQ). */
export function rowRates(mm: MmStruct, b: PageBins): Float64Array {
  // A local: imported bindings are read through a getter in some hosts (pte-walk.ts).
  const rateOf = RATE
  const { rateQ, nrPages } = mm
  const out = new Float64Array(b.rows)
  for (let i = 0; i < nrPages; i++) out[i >>> b.shift] += rateOf[rateQ[i]]
  for (let r = 0; r < b.rows; r++) out[r] /= rowPages(b, r, nrPages)
  return out
}

/** A column from the bins now (`rate` as rowRates gives it); clears the verdict counts. */
export function binColumn(mm: MmStruct, b: PageBins, rate: Float64Array): Column {
  const top = new Float64Array(b.rows)
  for (let r = 0; r < b.rows; r++) top[r] = b.top[r] / rowPages(b, r, mm.nrPages)
  const col = {
    rate: rate.slice(),
    top,
    scanned: Float64Array.from(b.scanned),
    accessed: Float64Array.from(b.accessed),
  }
  b.scanned.fill(0)
  b.accessed.fill(0)
  return col
}

/** Two adjacent columns as one: the snapshots' means, the verdict counts summed. */
function mergeColumns(a: Column | null, b: Column | null): Column | null {
  if (a === null || b === null) return a ?? b
  const mean = (x: Float64Array, y: Float64Array) => x.map((v, i) => (v + y[i]) / 2)
  const sum = (x: Float64Array, y: Float64Array) => x.map((v, i) => v + y[i])
  return {
    rate: mean(a.rate, b.rate),
    top: mean(a.top, b.top),
    scanned: sum(a.scanned, b.scanned),
    accessed: sum(a.accessed, b.accessed),
  }
}

interface Track {
  readonly pid: number
  readonly comm: string
  readonly mm: MmStruct
  /** Per column: null where the process did not exist. */
  readonly columns: (Column | null)[]
  /** The rates as last computed, and what they were computed for (assignRates' inputs). */
  rate: Float64Array | null
  rateKey: string
}

/** A process's heatmap as the report embeds it: three panels of rows × columns bytes. */
export interface ProcessHeatmap {
  readonly pid: number
  readonly comm: string
  readonly pages: number
  /** Pages per row (2^shift; the last row may have fewer). */
  readonly row_pages: number
  /** Start address of each row, lowest first. */
  readonly addresses: readonly string[]
  /** log10 of the lowest and highest non-zero mean rate (accesses/s of a page), or null. */
  readonly rate_log10: readonly [number, number] | null
  /**
   * base64 of rows × columns bytes, row-major from the lowest address. ABSENT: no process
   * then; rate: 0 a rate of 0, else 1–LEVELS on the log scale of rate_log10; verdicts:
   * NOT_SCANNED nothing visited, else 0–LEVELS the accessed share; placement: 0–LEVELS the
   * top-tier share.
   */
  readonly rate: string
  readonly verdicts: string
  readonly placement: string
}

export interface Heatmaps {
  /** Virtual seconds at which the first column starts, and each column ends. */
  readonly start_s: number
  readonly ends_s: readonly number[]
  readonly processes: readonly ProcessHeatmap[]
  /** Processes seen beyond HEATMAP_PROCESSES, as `comm:pid`. */
  readonly left_out: readonly string[]
}

export interface HeatmapLimits {
  readonly rows: number
  /** Even, so that halving leaves no odd column. */
  readonly columns: number
  readonly processes: number
}

const LIMITS: HeatmapLimits = {
  rows: HEATMAP_ROWS,
  columns: HEATMAP_COLUMNS,
  processes: HEATMAP_PROCESSES,
}

/**
 * Records heatmaps at the samples of a run: sample() at each recorded interval, the first one
 * starting the first column. `samples` is how many the run takes at most, if known.
 */
export class HeatmapRecorder {
  private readonly tracks = new Map<number, Track>()
  private readonly leftOut: string[] = []
  private readonly ends: number[] = []
  private start: number | null = null
  private stride: number
  private pending = 0

  constructor(
    private readonly kernel: Kernel,
    samples: number | null,
    private readonly limits: HeatmapLimits = LIMITS,
  ) {
    if (limits.columns < 2 || limits.columns % 2 !== 0) throw new Error('columns must be even')
    kernel.recordPageBins(limits.rows)
    this.stride =
      samples === null ? 1 : Math.max(1, Math.ceil((samples - 1) / (limits.columns - 1)))
  }

  sample(): void {
    const k = this.kernel
    if (this.start === null) {
      this.start = k.now
      for (const p of k.processList()) this.track(p)
      for (const t of this.tracks.values()) t.mm.bins?.scanned.fill(0)
      for (const t of this.tracks.values()) t.mm.bins?.accessed.fill(0)
      return
    }
    if (++this.pending < this.stride) return
    this.pending = 0
    const live = new Set<Track>()
    for (const p of k.processList()) {
      const t = this.track(p)
      if (t === null) continue
      live.add(t)
      const key = `${p.phase}:${p.access_rate}`
      if (t.rate === null || t.rateKey !== key) {
        t.rate = rowRates(t.mm, t.mm.bins as PageBins)
        t.rateKey = key
      }
      t.columns.push(binColumn(t.mm, t.mm.bins as PageBins, t.rate))
    }
    for (const t of this.tracks.values()) if (!live.has(t)) t.columns.push(null)
    this.ends.push(k.now)
    if (this.ends.length >= this.limits.columns) this.halve()
  }

  private track(p: Process): Track | null {
    const known = this.tracks.get(p.pid)
    if (known) return known
    if (this.tracks.size >= this.limits.processes) {
      const name = `${p.comm}:${p.pid}`
      if (!this.leftOut.includes(name)) this.leftOut.push(name)
      return null
    }
    const t: Track = {
      pid: p.pid,
      comm: p.comm,
      mm: p.mm,
      columns: new Array<Column | null>(this.ends.length).fill(null),
      rate: null,
      rateKey: '',
    }
    this.tracks.set(p.pid, t)
    return t
  }

  private halve(): void {
    for (const t of this.tracks.values()) {
      const merged: (Column | null)[] = []
      for (let c = 0; c < t.columns.length; c += 2) {
        merged.push(mergeColumns(t.columns[c], t.columns[c + 1]))
      }
      t.columns.splice(0, t.columns.length, ...merged)
    }
    const ends = this.ends.filter((_, c) => c % 2 === 1)
    this.ends.splice(0, this.ends.length, ...ends)
    this.stride *= 2
  }

  /** The heatmaps, quantized for the report. */
  result(): Heatmaps {
    return {
      start_s: (this.start ?? 0) / 1000,
      ends_s: this.ends.map((t) => t / 1000),
      processes: [...this.tracks.values()].sort((a, b) => a.pid - b.pid).map(quantized),
      left_out: this.leftOut,
    }
  }
}

function addressOf(mm: MmStruct, page: number): number {
  const v = mm.vmas.find((x) => page < x.first + x.nrPages) ?? mm.vmas[mm.vmas.length - 1]
  return v.start + (page - v.first) * 4096
}

function quantized(t: Track): ProcessHeatmap {
  const bins = t.mm.bins as PageBins
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const c of t.columns) {
    for (const r of c?.rate ?? []) {
      if (r > 0) {
        lo = Math.min(lo, Math.log10(r))
        hi = Math.max(hi, Math.log10(r))
      }
    }
  }
  const range: [number, number] | null = lo <= hi ? [lo, hi] : null
  const share = (x: number) => Math.round(x * LEVELS)
  const panel = (cell: (c: Column, r: number) => number) => {
    const cols = t.columns.length
    const bytes = new Uint8Array(bins.rows * cols)
    for (let r = 0; r < bins.rows; r++) {
      for (let c = 0; c < cols; c++) {
        const col = t.columns[c]
        bytes[r * cols + c] = col === null ? ABSENT : cell(col, r)
      }
    }
    return Buffer.from(bytes).toString('base64')
  }
  const logLevel = (v: number) => {
    if (v <= 0 || range === null) return 0
    const span = range[1] - range[0]
    return span > 0 ? 1 + Math.round(((Math.log10(v) - range[0]) / span) * (LEVELS - 1)) : LEVELS
  }
  const addresses: string[] = []
  for (let r = 0; r < bins.rows; r++) {
    addresses.push(`0x${addressOf(t.mm, r << bins.shift).toString(16)}`)
  }
  return {
    pid: t.pid,
    comm: t.comm,
    pages: t.mm.nrPages,
    row_pages: 2 ** bins.shift,
    addresses,
    rate_log10: range,
    rate: panel((c, r) => logLevel(c.rate[r])),
    verdicts: panel((c, r) =>
      c.scanned[r] === 0 ? NOT_SCANNED : share(c.accessed[r] / c.scanned[r]),
    ),
    placement: panel((c, r) => share(c.top[r])),
  }
}
