/**
 * What a kernel thread may touch of the kernel: the machine, the scheduler, tracepoints and
 * vmstat, the tunables it reads and the few mm operations it performs. The kernel gives
 * each kthread itself under this type, so a thread's file depends on this narrow view and
 * not on the kernel that builds it.
 */
import type { Machine } from './machine.ts'
import type { MmStruct, Process } from './mm.ts'
import type { Scheduler } from './sched.ts'
import type { CostModel, Quirks } from './spec.ts'
import type { Tracer } from './trace.ts'
import type { Vmstat } from './vmstat.ts'

export interface KthreadContext {
  readonly machine: Machine
  readonly sched: Scheduler
  readonly tracer: Tracer
  readonly vmstat: Vmstat
  readonly costs: CostModel
  readonly quirks: Quirks
  readonly numa_balancing_scan_delay_ms: number
  readonly hotRateQ: number
  readonly maxMigrateInfo: number
  readonly demotion_enabled: boolean
  /** Virtual ms that per-page next-access times are relative to. */
  readonly timeBase: number
  processList(): readonly Process[]
  totalPages(): number
  /** Moves one page to another node (promotion or demotion), keeping all accounting. */
  movePage(mm: MmStruct, page: number, dest: number, cpuNode?: number): void
  wakeupKswapd(nid: number): void
}
