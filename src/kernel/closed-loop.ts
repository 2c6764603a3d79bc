/**
 * Closed-loop workloads (docs/numa-balancing.md §9): a process with `threads` threads, each
 * doing one memory access, then `think_ns` of other work, until `accesses` accesses are done
 * in all. Its access rate is not given but follows from where its pages are:
 *
 *   rate = threads / (think_ns + L),  L = the access-weighted latency of its pages' nodes,
 *
 * and the time its threads spend stalled in NUMA hint faults, synchronous migrations and
 * task_numa_work (the CPU time charged to its task) does no accesses. Every
 * CLOSED_LOOP_TICK_MS the progress is added up and, when the rate moved by more than
 * RATE_STEP, the pages' rates are reassigned (pages whose rate changed redraw their next
 * access: the Poisson processes are memoryless). When the budget is spent the process records
 * the time and stops accessing memory: its pages keep their place, their rates drop to 0.
 */
import { nextAccessAfter } from './access.ts'
import type { KthreadContext } from './context.ts'
import { checkInt, checkNumber, einval } from './errors.ts'
import type { Process } from './mm.ts'
import type { NumaBalancing } from './numa-balancing.ts'
import { NEVER, RATE } from './rate.ts'
import type { ClosedLoopSpec, WorkloadSpec } from './spec.ts'
import { assignRates } from './workload.ts'

/** A closed-loop process also takes NUMA hint faults: what it may touch of the kernel. */
export interface ClosedLoopContext extends KthreadContext {
  readonly numab: NumaBalancing
}

export const CLOSED_LOOP_TICK_MS = 10
/** Relative change of the access rate that reassigns the pages' rates. */
const RATE_STEP = 0.005

/** Progress of one closed-loop process. */
export class ClosedLoop {
  done = 0
  /** Virtual ms the budget was spent at (fractional), or null while running. */
  finished_at: number | null = null
  /** Thread time lost to stalls (ns), counted so far. */
  stalled_ns = 0
  private lastAt: number
  private lastStallNs = 0

  constructor(
    readonly spec: ClosedLoopSpec,
    private readonly proc: Process,
    private readonly k: ClosedLoopContext,
  ) {
    this.lastAt = proc.started_at
  }

  /** Access-weighted mean latency of the process's pages (ns). */
  mean_latency_ns(): number {
    const nodes = this.k.machine.nodes
    const { rateOnNode, pagesOnNode } = this.proc.mm
    let rate = 0
    let lat = 0
    for (let n = 0; n < nodes.length; n++) {
      rate += Math.max(0, rateOnNode[n])
      lat += Math.max(0, rateOnNode[n]) * nodes[n].latency_ns
    }
    if (rate > 0) return lat / rate
    // No rates yet (at exec): weigh by pages.
    let pages = 0
    for (let n = 0; n < nodes.length; n++) {
      pages += pagesOnNode[n]
      lat += pagesOnNode[n] * nodes[n].latency_ns
    }
    return pages > 0 ? lat / pages : 0
  }

  /** Accesses per second the threads reach with their pages where they are now. */
  rate(): number {
    return (this.spec.threads * 1e9) / (this.spec.think_ns + this.mean_latency_ns())
  }

  /** time-to-finish in ms, or null while running. */
  get time_to_finish_ms(): number | null {
    return this.finished_at === null ? null : this.finished_at - this.proc.started_at
  }

  /** Adds up the progress since the last tick; true when the budget is spent. */
  tick(stallNsTotal: number): boolean {
    const now = this.k.sched.now
    const dtMs = now - this.lastAt
    const stall = stallNsTotal - this.lastStallNs
    this.lastStallNs = stallNsTotal
    this.stalled_ns += stall
    const perAccessNs = this.spec.think_ns + this.mean_latency_ns()
    const threadNs = Math.max(0, this.spec.threads * dtMs * 1e6 - stall)
    const accesses = threadNs / perAccessNs
    const left = this.spec.accesses - this.done
    if (accesses >= left) {
      this.finished_at = this.lastAt + (dtMs * left) / accesses
      this.done = this.spec.accesses
      this.lastAt = now
      return true
    }
    this.done += accesses
    this.lastAt = now
    return false
  }
}

/** Validates a closed-loop spec for a workload; throws EINVAL naming the field. */
export function validateClosedLoop(c: ClosedLoopSpec, workload: WorkloadSpec): void {
  if (typeof c !== 'object' || c === null) throw einval('closed_loop must be an object')
  checkInt('closed_loop.threads', c.threads, 1, 4096)
  checkNumber('closed_loop.think_ns', c.think_ns, 0, 1e9)
  checkInt('closed_loop.accesses', c.accesses, 1, Number.MAX_SAFE_INTEGER)
  if (workload.pattern === 'sequential' || workload.pattern === 'idle')
    throw einval(`closed_loop needs a random access pattern, not ${workload.pattern}`)
}

/** The closed-loop processes of a kernel and their ticks. */
export class ClosedLoops {
  private readonly loops = new Map<Process, ClosedLoop>()

  constructor(private readonly k: ClosedLoopContext) {}

  get(proc: Process): ClosedLoop | undefined {
    return this.loops.get(proc)
  }

  /** Starts a process's loop: its first rates, then a tick every CLOSED_LOOP_TICK_MS. */
  start(proc: Process, spec: ClosedLoopSpec): void {
    const loop = new ClosedLoop(spec, proc, this.k)
    this.loops.set(proc, loop)
    this.setRate(proc, loop.rate())
    this.schedule(proc, loop)
  }

  exit(proc: Process): void {
    this.loops.delete(proc)
  }

  private schedule(proc: Process, loop: ClosedLoop): void {
    this.k.sched.at(this.k.sched.now + CLOSED_LOOP_TICK_MS, () => {
      if (this.loops.get(proc) !== loop) return
      const task = this.k.numab.task(proc)
      if (loop.tick(task ? task.scan_ns + task.fault_ns : 0)) {
        this.setRate(proc, 0)
        return
      }
      const rate = loop.rate()
      if (Math.abs(rate - proc.access_rate) > RATE_STEP * proc.access_rate) this.setRate(proc, rate)
      this.schedule(proc, loop)
    })
  }

  /** Reassigns the pages' rates for a new process rate; changed pages redraw their next access. */
  private setRate(proc: Process, rate: number): void {
    const { k } = this
    const mm = proc.mm
    const before = mm.rateQ.slice()
    proc.access_rate = rate
    const pages = mm.accessedPages()
    if (rate > 0) assignRates(proc.workload, rate, pages, mm.rateQ, proc.seed, proc.phase)
    else for (let i = 0; i < pages.length; i++) mm.rateQ[pages.at(i)] = 0
    const nowRel = k.sched.now - k.timeBase
    for (let i = 0; i < mm.nrPages; i++) {
      if (mm.rateQ[i] === before[i]) continue
      mm.rateOnNode[mm.node[i]] += RATE[mm.rateQ[i]] - RATE[before[i]]
      // A set Accessed bit stays set; a pending access is redrawn at the new rate.
      if (mm.nextAccess[i] > nowRel)
        mm.nextAccess[i] = mm.rateQ[i] === 0 ? NEVER : nextAccessAfter(mm, i, nowRel)
    }
  }
}
