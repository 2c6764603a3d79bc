/**
 * What the kernel is given, as the kernel sees it: the boot configuration (topology, cost
 * model, quirks) and the specs of the processes it runs (layout, memory policy, workload).
 * Plain types, no behaviour: the wire schemas in src/schemas/ describe the same shapes as
 * JSON, and every command validates what it is given (KernelError) before it acts.
 */
import type { TopologySpec } from './machine.ts'

/** Modelled CPU cost of the threads' work, charged as virtual time. */
export interface CostModel {
  /** One kscand_scan_mm_slot() visit, whether or not the mm is due. */
  readonly visitNs: number
  /** One PTE test-and-clear with its folio checks. */
  readonly pteNs: number
  /** One successful single-folio migration (kscand V0: ~5 µs per 4 KiB page, migration-dominated). */
  readonly migrateNs: number
  /** A promotion attempt rejected by a check. */
  readonly checkNs: number
  /** One page examined by kswapd's clock. */
  readonly reclaimScanNs: number
  /** NUMA balancing: one task_numa_work() call (mmap lock, window setup, TLB flushes). */
  readonly numabScanNs: number
  /** NUMA balancing: one PTE walked by change_prot_numa(). */
  readonly numabPteNs: number
  /** NUMA balancing: one hint fault in do_numa_page(), without a migration. */
  readonly hintFaultNs: number
  /** NUMA balancing: one synchronous folio migration in the faulting task. */
  readonly numabMigrateNs: number
}

/**
 * Behaviours of the posted V3 code that change what users see (docs/spec/kscand-v3.md §7.13), switchable at run
 * time. `true` is the faithful default.
 */
export interface Quirks {
  /** Quirk 4: kmigrated keeps servicing the first mm with a migration slot until it exits. */
  kmigrated_sticky_slot: boolean
  /** Quirk 1: the scan_size budget only ends a scan on a VMA that produced candidates. */
  scan_budget_needs_candidates: boolean
  /** Seed patch 05: kmigrated_wait_work() waits on the condition `true`, so it never sleeps. */
  kmigrated_wait_returns_at_once: boolean
}

export const QUIRK_NAMES = [
  'kmigrated_sticky_slot',
  'scan_budget_needs_candidates',
  'kmigrated_wait_returns_at_once',
] as const satisfies readonly (keyof Quirks)[]

export interface KernelConfig {
  readonly seed?: number
  readonly topology?: TopologySpec
  readonly costs?: Partial<CostModel>
  readonly quirks?: Partial<Quirks>
  /** sysctl_numa_balancing_scan_delay; V3 delays a new mm's first scan by twice this. */
  readonly numaBalancingScanDelayMs?: number
  /** Ground truth: a page accessed at least this often (per second) is hot. */
  readonly hotThreshold?: number
  /** Most kscand_migrate_info entries that can exist (GFP_NOWAIT fails beyond). */
  readonly maxMigrateInfo?: number
  /** /sys/kernel/mm/numa/demotion_enabled at boot. */
  readonly demotionEnabled?: boolean
  /** kernel.numa_balancing at boot (0–4, default 0: kscand alone). */
  readonly numaBalancing?: number
  /** Start kscand, kmigrated and kswapd at boot, as subsys_initcall does. Default true. */
  readonly autostart?: boolean
  /** Most live processes (exec and fork fail with ENOSPC beyond). Default MAX_PROCESSES. */
  readonly maxProcesses?: number
  /** Most VMAs a process may have (exec fails with E2BIG beyond). Default MAX_VMAS. */
  readonly maxVmas?: number
  /** Virtual seconds of history kept (history.ts), 60–3600; default 600. */
  readonly historySeconds?: number
  /** Processes whose series the history keeps, 0–32; default 16. */
  readonly historyProcesses?: number
}

/**
 * VMA kinds, as far as docs/spec/kscand-v3.md §7.5 tells them apart:
 * - anon: private anonymous memory (heap, stacks) — scanned;
 * - file: a writable file mapping — scanned;
 * - file_ro: a read-only file mapping (text, shared libraries) — skipped by the VMA filter;
 * - shared: memory mapped by another process too — scanned, but every folio is rejected;
 * - mlocked: anonymous VM_LOCKED memory — scanned, folios unevictable and rejected;
 * - hugetlb, mixedmap (VM_MIXEDMAP), io (VM_IO|VM_PFNMAP, !vma_migratable) and
 *   prot_none (!vma_is_accessible) — skipped by the VMA filter.
 */
export const VMA_KINDS = [
  'anon',
  'file',
  'file_ro',
  'shared',
  'mlocked',
  'hugetlb',
  'mixedmap',
  'io',
  'prot_none',
] as const
export type VmaKind = (typeof VMA_KINDS)[number]

export interface VmaSpec {
  readonly kind: VmaKind
  /** Bytes; a positive multiple of 4096. */
  readonly size: number
  /**
   * The VMA has its own mempolicy set by mbind(2) without MPOL_F_MOF, so
   * vma_policy_mof() is false and kscand skips it.
   */
  readonly mbind?: boolean
}

export type PolicySpec =
  /** First touch: local node of `cpu_node` (default: the CPU node with most free memory), falling back by distance. */
  | {
      readonly mode: 'local'
      readonly cpu_node?: number
      /**
       * Pages start on this node (falling back by distance) instead of the CPU node, as after
       * a move_pages(2) that left the default policy in place (abench's memory on CXL).
       */
      readonly mem_node?: number
    }
  /** numactl --preferred: like local, starting from `node`. */
  | { readonly mode: 'preferred'; readonly node: number }
  /** numactl --membind (task policy): only these nodes. */
  | { readonly mode: 'bind'; readonly nodes: readonly number[] }
  /** numactl --interleave (task policy): page by page over these nodes. */
  | { readonly mode: 'interleave'; readonly nodes: readonly number[] }

export interface ProcessSpec {
  readonly comm: string
  /** Either a total size (one anonymous VMA) or an explicit layout. */
  readonly size?: number
  readonly vmas?: readonly VmaSpec[]
  readonly policy?: PolicySpec
  readonly workload?: WorkloadSpec
  /** Accesses per second over the whole process. */
  readonly access_rate?: number
  /** Instead of a rate: threads, think time and an access budget (closed-loop.ts). */
  readonly closed_loop?: ClosedLoopSpec
}

export interface ClosedLoopSpec {
  /** Threads doing accesses in parallel (1 to 4096). */
  readonly threads: number
  /** Work between two accesses of one thread, in ns (abench: 1 µs). */
  readonly think_ns: number
  /** Accesses to do in all (abench: 512 iterations over its pages). */
  readonly accesses: number
}

export type WorkloadSpec =
  /** Every page equally likely (GUPS / memtier R:R). */
  | { readonly pattern: 'uniform' }
  /** Scrambled Zipf: rank r has weight r^-theta; ranks are scattered over the pages (YCSB). */
  | { readonly pattern: 'zipf'; readonly theta: number }
  /**
   * A hot set of `hot_fraction` of the pages takes `hot_access_fraction` (default 0.9) of the
   * accesses, the rest is uniform (HeMem GUPS). At `shift_at_ms` after the process starts,
   * `shift_fraction` (default 1) of the hot set moves to the pages right after it.
   */
  | {
      readonly pattern: 'hotset'
      readonly hot_fraction: number
      readonly hot_access_fraction?: number
      readonly shift_at_ms?: number
      readonly shift_fraction?: number
    }
  /** A sweep over the pages in address order, one 64-byte line per access. */
  | { readonly pattern: 'sequential' }
  /** No accesses of its own; pages are only touched by explicit commands (scripted tests). */
  | { readonly pattern: 'idle' }
