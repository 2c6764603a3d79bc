/**
 * summary.json: what a run came to, with nothing of the wall clock in it, so the same
 * scenario and seed give the same bytes. Per process (each live one at the end, and each
 * one that exited, as it was just before): its time to finish a closed-loop budget, top-tier
 * hit ratio, mean latency, kscand's precision and recall, promotions, demotions, hint
 * faults and the CPU time NUMA balancing took in its context; per kernel thread its CPU
 * time; and the machine's vmstat counters.
 */
import type { Kernel } from '../kernel/kernel.ts'
import type { Process } from '../kernel/mm.ts'
import { VMSTAT_NAMES } from '../kernel/vmstat.ts'
import type { Scenario } from '../schemas/scenario.ts'

export interface ProcessResult {
  pid: number
  ppid: number | null
  comm: string
  started_at_ms: number
  exited_at_ms: number | null
  pages: number
  pages_per_node: number[]
  /** Closed loop: virtual ms from its start to its last access; null if not done (or open loop). */
  time_to_finish_ms: number | null
  accesses_done: number | null
  top_tier_hit_ratio: number | null
  mean_latency_ns: number | null
  precision: number | null
  recall: number | null
  queued: number
  promotions: number
  demotions: number
  hint_faults: number
  /** NUMA balancing's CPU time in the task: task_numa_work, and hint faults with migrations. */
  numa_scan_cpu_ns: number
  numa_fault_cpu_ns: number
  /** Closed loop: thread time lost to that work. */
  stalled_ns: number | null
  pte_scan_scale: number
  target_node: number
}

export interface Summary {
  scenario: string
  seed: number
  /** Why the run ended: its duration, every budget spent, or limit_ms reached first. */
  ended: 'duration' | 'budgets_spent' | 'limit'
  virtual_ms: number
  processes: ProcessResult[]
  kthreads: { name: string; pid: number; state: string; cpu_ns: number; cycles: number }[]
  vmstat: Record<string, number>
}

export function processResult(kernel: Kernel, p: Process, exitedAt: number | null): ProcessResult {
  const s = kernel.processStats(p.pid)
  const task = kernel.numab.task(p)
  const loop = s.closed_loop
  return {
    pid: p.pid,
    ppid: p.parent,
    comm: p.comm,
    started_at_ms: p.started_at,
    exited_at_ms: exitedAt,
    pages: p.mm.nrPages,
    pages_per_node: s.pages_per_node,
    time_to_finish_ms: loop?.time_to_finish_ms ?? null,
    accesses_done: loop?.done ?? null,
    top_tier_hit_ratio: s.top_tier_hit_ratio,
    mean_latency_ns: s.mean_latency_ns,
    precision: s.precision,
    recall: s.recall,
    queued: s.queued,
    promotions: s.promoted,
    demotions: s.demoted,
    hint_faults: task?.hint_faults ?? 0,
    numa_scan_cpu_ns: task?.scan_ns ?? 0,
    numa_fault_cpu_ns: task?.fault_ns ?? 0,
    stalled_ns: loop?.stalled_ns ?? null,
    pte_scan_scale: s.pte_scan_scale,
    target_node: s.target_node,
  }
}

export function summary(
  kernel: Kernel,
  scenario: Scenario,
  ended: Summary['ended'],
  exited: readonly ProcessResult[],
): Summary {
  const live = kernel.processList().map((p) => processResult(kernel, p, null))
  return {
    scenario: scenario.name ?? '',
    seed: scenario.seed,
    ended,
    virtual_ms: kernel.now,
    processes: [...exited, ...live].sort((a, b) => a.pid - b.pid),
    kthreads: kernel.threads().map((t) => ({
      name: t.comm,
      pid: t.pid,
      state: t.state,
      cpu_ns: t.cpu_ns,
      cycles: t.cycles,
    })),
    vmstat: Object.fromEntries(VMSTAT_NAMES.map((n) => [n, kernel.vmstat.get(n)])),
  }
}
