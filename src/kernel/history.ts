/**
 * The history of what the dashboard charts, kept by the kernel on its own clock: one sample
 * at every whole virtual second as Kernel.run passes it, into fixed-size rings (a
 * Float64Array per series, indexed by second modulo the capacity). Nothing here reads a host
 * clock: the same seed and commands give the same history, however the host slices the run.
 *
 * Each sample holds
 * - the increase of a few vmstat counters per virtual second (HISTORY_COUNTERS);
 * - the CPU each kernel thread used in that second, as a percentage of one CPU;
 * - per process (the first `maxProcesses` alive; a slot is freed when its process exits):
 *   its pages on each node, its top-tier hit ratio and mean access latency (access-weighted,
 *   as GET /processes/PID shows them) and its kscand scan_period and scan_size.
 * Memory: 8 bytes × (counters + kthreads + maxProcesses × (nodes + 4)) per second of capacity
 * (docs/simulation.md, "History of the charts").
 */
import type { Machine } from './machine.ts'
import type { MmStruct, Process } from './mm.ts'
import type { Kthread } from './sched.ts'
import { VM, type Vmstat, type VmstatName } from './vmstat.ts'

/** What the history reads of the kernel. */
export interface HistorySource {
  readonly now: number
  readonly machine: Machine
  readonly vmstat: Vmstat
  readonly kscand: {
    slotOf(mm: MmStruct): { readonly scan_period: number; readonly scan_size: number } | undefined
  }
  threads(): Kthread[]
  processList(): readonly Process[]
}

/** The counters whose rates are kept: the dashboard's rate chart. */
export const HISTORY_COUNTERS = [
  'pgpromote_success',
  'nr_kscand_migrate_failed',
  'pgdemote_kswapd',
] as const satisfies readonly VmstatName[]

export const HISTORY_SECONDS_DEFAULT = 600
export const HISTORY_SECONDS_MIN = 60
export const HISTORY_SECONDS_MAX = 3600
export const HISTORY_PROCESSES_DEFAULT = 16
export const HISTORY_PROCESSES_MAX = 32

const MS_PER_SAMPLE = 1000
/** Series of a process slot besides its pages per node. */
const PROCESS_SERIES = 4

/** One process's rings; its samples before `since` belong to an earlier owner of the slot. */
class ProcessRings {
  pid = -1
  comm = ''
  /** The virtual second of the slot's first sample for this process. */
  since = 0
  readonly pagesPerNode: Float64Array[]
  readonly hitRatio: Float64Array
  readonly latencyNs: Float64Array
  readonly scanPeriod: Float64Array
  readonly scanSize: Float64Array

  constructor(capacity: number, nodes: number) {
    this.pagesPerNode = Array.from({ length: nodes }, () => new Float64Array(capacity))
    this.hitRatio = new Float64Array(capacity)
    this.latencyNs = new Float64Array(capacity)
    this.scanPeriod = new Float64Array(capacity)
    this.scanSize = new Float64Array(capacity)
  }
}

/** A process's series, oldest sample first; NaN where it has no value (not yet alive). */
export interface ProcessSeries {
  readonly pid: number
  readonly comm: string
  readonly since: number
  readonly pagesPerNode: Float64Array[]
  readonly hitRatio: Float64Array
  readonly latencyNs: Float64Array
  readonly scanPeriod: Float64Array
  readonly scanSize: Float64Array
}

/** What the rings hold, oldest sample first: `seconds[i]` is the virtual second of sample i. */
export interface HistorySeries {
  readonly capacity: number
  readonly seconds: Float64Array
  readonly rates: Record<(typeof HISTORY_COUNTERS)[number], Float64Array>
  readonly cpuPercent: Record<string, Float64Array>
  readonly processes: ProcessSeries[]
}

/**
 * Access-weighted share of accesses the top tier serves and mean load latency over the nodes'
 * modelled latencies; null for a process that makes no accesses.
 */
export function accessQuality(
  machine: Machine,
  mm: MmStruct,
): { hit: number; latencyNs: number } | null {
  const nodes = machine.nodes
  const rateOnNode = mm.rateOnNode
  let rate = 0
  let topRate = 0
  let latency = 0
  for (let n = 0; n < nodes.length; n++) {
    const r = Math.max(0, rateOnNode[n])
    rate += r
    if (nodes[n].toptier) topRate += r
    latency += r * nodes[n].latency_ns
  }
  return rate > 0 ? { hit: topRate / rate, latencyNs: latency / rate } : null
}

export class History {
  readonly capacity: number
  readonly maxProcesses: number
  /** Virtual ms of the next sample: Kernel.run stops its scheduler there. */
  nextAt: number
  /** Samples held (at most the capacity). */
  private count = 0
  private readonly threads: readonly Kthread[]
  private readonly rates: Float64Array[]
  private readonly cpu: Float64Array[]
  private readonly prevCounters: Float64Array
  private readonly prevCpuNs: Float64Array
  private prevAt: number
  private readonly nodes: number
  private readonly slots = new Map<number, ProcessRings>()
  private readonly spare: ProcessRings[] = []

  constructor(k: HistorySource, capacity: number, maxProcesses: number) {
    this.capacity = capacity
    this.maxProcesses = maxProcesses
    this.threads = k.threads()
    this.nodes = k.machine.nodes.length
    this.rates = HISTORY_COUNTERS.map(() => new Float64Array(capacity))
    this.cpu = this.threads.map(() => new Float64Array(capacity))
    this.prevCounters = Float64Array.from(HISTORY_COUNTERS, (c) => k.vmstat.v[VM[c]])
    this.prevCpuNs = Float64Array.from(this.threads, (t) => t.cpuTimeNs())
    this.prevAt = k.now
    this.nextAt = (Math.floor(k.now / MS_PER_SAMPLE) + 1) * MS_PER_SAMPLE
  }

  /** Bytes the rings take at most, with every process slot in use. */
  get bytes(): number {
    const perSecond =
      HISTORY_COUNTERS.length +
      this.threads.length +
      this.maxProcesses * (this.nodes + PROCESS_SERIES)
    return perSecond * Float64Array.BYTES_PER_ELEMENT * this.capacity
  }

  /** The virtual second of the newest sample; null before the first. */
  get newest(): number | null {
    return this.count === 0 ? null : this.nextAt / MS_PER_SAMPLE - 1
  }

  /** Records the sample of the second the clock is at (k.now === nextAt). */
  sample(k: HistorySource): void {
    const second = this.nextAt / MS_PER_SAMPLE
    const i = second % this.capacity
    const dt = (k.now - this.prevAt) / MS_PER_SAMPLE
    const v = k.vmstat.v
    HISTORY_COUNTERS.forEach((c, j) => {
      const now = v[VM[c]]
      this.rates[j][i] = (now - this.prevCounters[j]) / dt
      this.prevCounters[j] = now
    })
    this.threads.forEach((t, j) => {
      const ns = t.cpuTimeNs()
      this.cpu[j][i] = ((ns - this.prevCpuNs[j]) / (dt * 1e9)) * 100
      this.prevCpuNs[j] = ns
    })
    this.sampleProcesses(k, second, i)
    this.prevAt = k.now
    this.nextAt += MS_PER_SAMPLE
    if (this.count < this.capacity) this.count++
  }

  private sampleProcesses(k: HistorySource, second: number, i: number): void {
    for (const p of k.processList()) {
      let slot = this.slots.get(p.pid)
      if (!slot) {
        if (this.slots.size >= this.maxProcesses) continue
        slot = this.spare.pop() ?? new ProcessRings(this.capacity, this.nodes)
        slot.pid = p.pid
        slot.since = second
        this.slots.set(p.pid, slot)
      }
      slot.comm = p.comm
      for (let n = 0; n < this.nodes; n++) slot.pagesPerNode[n][i] = p.mm.pagesOnNode[n]
      const q = accessQuality(k.machine, p.mm)
      slot.hitRatio[i] = q ? q.hit : Number.NaN
      slot.latencyNs[i] = q ? q.latencyNs : Number.NaN
      const scan = k.kscand.slotOf(p.mm)
      slot.scanPeriod[i] = scan ? scan.scan_period : Number.NaN
      slot.scanSize[i] = scan ? scan.scan_size : Number.NaN
    }
  }

  /** A process exited: its slot (and the history in it) goes to the next process sampled. */
  forget(pid: number): void {
    const slot = this.slots.get(pid)
    if (!slot) return
    this.slots.delete(pid)
    this.spare.push(slot)
  }

  /** Copies of the rings in time order, oldest first; with `after`, the samples after it. */
  series(after = Number.NEGATIVE_INFINITY): HistorySeries {
    const newest = this.newest ?? 0
    const first = Math.max(newest - this.count + 1, after + 1)
    const n = Math.max(0, newest - first + 1)
    const seconds = Float64Array.from({ length: n }, (_, j) => first + j)
    const ordered = (ring: Float64Array, since = first): Float64Array => {
      const out = new Float64Array(n)
      for (let j = 0; j < n; j++) {
        const s = first + j
        out[j] = s < since ? Number.NaN : ring[s % this.capacity]
      }
      return out
    }
    const rates = Object.fromEntries(
      HISTORY_COUNTERS.map((c, j) => [c, ordered(this.rates[j])]),
    ) as HistorySeries['rates']
    const cpuPercent = Object.fromEntries(
      this.threads.map((t, j) => [t.comm, ordered(this.cpu[j])]),
    )
    const processes = [...this.slots.values()]
      .sort((a, b) => a.pid - b.pid)
      .map((s) => ({
        pid: s.pid,
        comm: s.comm,
        since: s.since,
        pagesPerNode: s.pagesPerNode.map((r) => ordered(r, s.since)),
        hitRatio: ordered(s.hitRatio, s.since),
        latencyNs: ordered(s.latencyNs, s.since),
        scanPeriod: ordered(s.scanPeriod, s.since),
        scanSize: ordered(s.scanSize, s.since),
      }))
    return { capacity: this.capacity, seconds, rates, cpuPercent, processes }
  }
}
