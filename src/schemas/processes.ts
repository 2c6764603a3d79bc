/**
 * Simulated processes: the spec POST /processes takes (it mirrors the kernel's ProcessSpec,
 * which stays the authority and validates again) and what the reads return.
 */
import { z } from 'zod'
import {
  MAX_VMAS,
  PAGE_SIZE,
  PR_GET_PTE_A_SCAN_SCALE,
  PR_SET_PTE_A_SCAN_SCALE,
} from '../kernel/constants.ts'
import { VMA_KINDS } from '../kernel/spec.ts'
import { STALL_CAUSES } from '../kernel/stall.ts'

const Bytes = z
  .number()
  .int()
  .positive()
  .multipleOf(PAGE_SIZE)
  .describe('bytes, a positive multiple of 4096')
const NodeId = z.number().int().min(0)
const Fraction = z.number().min(0).max(1)

export const VmaSpec = z
  .strictObject({
    kind: z
      .enum(VMA_KINDS)
      .describe('what kscand sees of the mapping (docs/spec/kscand-v3.md §7.5)'),
    size: Bytes,
    mbind: z.boolean().optional().describe('own mempolicy without MPOL_F_MOF: kscand skips it'),
  })
  .meta({ id: 'VmaSpec' })

export const PolicySpecSchema = z
  .discriminatedUnion('mode', [
    z.strictObject({
      mode: z.literal('local'),
      cpu_node: NodeId.optional(),
      mem_node: NodeId.optional().describe(
        'pages start here instead of on the CPU node, the policy staying the default',
      ),
    }),
    z.strictObject({ mode: z.literal('preferred'), node: NodeId }),
    z.strictObject({ mode: z.literal('bind'), nodes: z.array(NodeId).min(1) }),
    z.strictObject({ mode: z.literal('interleave'), nodes: z.array(NodeId).min(1) }),
  ])
  .describe('page placement at exec, as numactl would set it (default local)')
  .meta({ id: 'PolicySpec' })

export const WorkloadSpecSchema = z
  .discriminatedUnion('pattern', [
    z.strictObject({ pattern: z.literal('uniform') }),
    z.strictObject({ pattern: z.literal('zipf'), theta: z.number().positive().max(10) }),
    z.strictObject({
      pattern: z.literal('hotset'),
      hot_fraction: z.number().positive().max(1),
      hot_access_fraction: Fraction.optional(),
      shift_at_ms: z.number().min(0).optional(),
      shift_fraction: Fraction.optional(),
    }),
    z.strictObject({ pattern: z.literal('sequential') }),
    z.strictObject({ pattern: z.literal('idle') }),
  ])
  .describe('access pattern (default uniform)')
  .meta({ id: 'WorkloadSpec' })

export const ClosedLoopSpecSchema = z
  .strictObject({
    threads: z.number().int().min(1).max(4096).describe('threads accessing in parallel'),
    think_ns: z.number().min(0).max(1e9).describe('work between two accesses of a thread (ns)'),
    accesses: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('the access budget'),
  })
  .describe(
    'instead of access_rate: the rate follows from the latency of where the pages are, and ' +
      'the process reports its time to finish the budget (docs/numa-balancing.md §9)',
  )
  .meta({ id: 'ClosedLoopSpec' })

export const ProcessSpecSchema = z
  .strictObject({
    comm: z
      .string()
      .regex(/^[\x21-\x7e]{1,15}$/)
      .describe('1 to 15 printable characters, no spaces'),
    size: Bytes.optional().describe('one anonymous VMA of this size (or give vmas)'),
    vmas: z
      .array(VmaSpec)
      .min(1)
      .max(MAX_VMAS)
      .optional()
      .describe('explicit layout (or give size)'),
    policy: PolicySpecSchema.optional(),
    workload: WorkloadSpecSchema.optional(),
    access_rate: z
      .number()
      .min(0)
      .max(1e12)
      .optional()
      .describe('accesses per second (default 1e6)'),
    closed_loop: ClosedLoopSpecSchema.optional(),
  })
  .refine((s) => (s.size === undefined) !== (s.vmas === undefined), {
    message: 'give either size or vmas',
  })
  .refine((s) => s.access_rate === undefined || s.closed_loop === undefined, {
    message: 'give either access_rate or closed_loop',
  })
  .meta({ id: 'ProcessSpec' })

export const PromotionStall = z
  .object({
    cause: z.enum(STALL_CAUSES).describe('why its slow-tier pages are not promoted'),
    pending: z.number().int().describe('entries on its migration list'),
    servicing: z
      .number()
      .int()
      .nullable()
      .describe('sticky_slot: the pid of the mm kmigrated drains instead'),
    node: z.number().int().nullable().describe('target_node_full: the full node'),
    fratio: z
      .number()
      .int()
      .describe('failure ratio (%) of its kmigrated slot; each full 10 % adds a scan_period'),
    reason: z.string().describe('the cause in a sentence'),
    remedy: z.string().nullable().describe('the switch that ends it, if one does'),
    remedy_request: z
      .object({
        method: z.enum(['PUT', 'POST']),
        path: z.string(),
        body: z.string().nullable().describe('the value to write; null: an empty POST'),
      })
      .nullable()
      .describe('the same switch as an HTTP request to this daemon (for a curl line)'),
  })
  .describe('null while its hot pages are promoted (or it has none on the slow tier)')
  .meta({ id: 'PromotionStall' })

export type PromotionStall = z.infer<typeof PromotionStall>

export const ProcessSummary = z
  .object({
    pid: z.number().int(),
    ppid: z.number().int().nullable(),
    comm: z.string(),
    started_at: z.number().describe('virtual ms'),
    workload: WorkloadSpecSchema.describe('the access pattern it was started with'),
    pages: z.number().int(),
    pages_per_node: z.array(z.number()),
    pte_scan_scale: z.number().int(),
    top_tier_hit_ratio: z.number().nullable(),
    stall: PromotionStall.nullable(),
  })
  .meta({ id: 'ProcessSummary' })

export type ProcessSummary = z.infer<typeof ProcessSummary>

export const ProcessList = z.array(ProcessSummary).meta({ id: 'ProcessList' })

const Nullable = z.number().nullable()

export const ProcessDetail = ProcessSummary.extend({
  access_rate: z.number(),
  mean_latency_ns: Nullable,
  precision: Nullable.describe('share of queued slow-tier pages that were truly hot'),
  recall: Nullable.describe('share of truly hot slow-tier pages kscand saw that it queued'),
  queued: z.number(),
  promoted: z.number(),
  demoted: z.number(),
  target_node: z.number().int(),
  scan: z
    .object({
      scan_period: z.number(),
      scan_size: z.number(),
      next_scan: z.number(),
      scan_delta: z.number(),
      address: z.number(),
    })
    .nullable(),
  migration: z
    .object({ pending: z.number(), fratio: z.number(), msuccess: z.number(), mfailed: z.number() })
    .nullable(),
  numa: z
    .object({
      numa_scan_seq: z.number().int(),
      numa_scan_period: z.number().describe('ms per scan window'),
      numa_scan_offset: z.number(),
      numa_pages_migrated: z.number(),
      numa_preferred_nid: z.number().int().describe('-1: none yet'),
      scan_ns: z.number().describe('CPU time of task_numa_work (ns)'),
      fault_ns: z.number().describe('CPU time of hint faults and their migrations (ns)'),
    })
    .nullable()
    .describe('NUMA balancing in this task, once it scanned'),
  closed_loop: z
    .object({
      threads: z.number().int(),
      think_ns: z.number(),
      accesses: z.number(),
      done: z.number().describe('accesses done so far'),
      stalled_ns: z.number().describe('thread time lost to hint faults, migrations and scans'),
      finished_at: Nullable.describe('virtual ms the budget was spent at'),
      time_to_finish_ms: Nullable.describe('finished_at − started_at'),
    })
    .nullable(),
}).meta({ id: 'ProcessDetail' })

export type ProcessDetail = z.infer<typeof ProcessDetail>

export const PidParams = z.object({ pid: z.string().describe('process id') })

const PrctlArg = z
  .union([z.number().int(), z.string().regex(/^-?\d+$/)])
  .describe('an unsigned long; a decimal string for values beyond 2^53')

export const PrctlRequest = z
  .strictObject({
    option: z
      .union([z.number().int(), z.enum(['PR_SET_PTE_A_SCAN_SCALE', 'PR_GET_PTE_A_SCAN_SCALE'])])
      .describe(
        `PR_SET_PTE_A_SCAN_SCALE (${PR_SET_PTE_A_SCAN_SCALE}) or PR_GET_PTE_A_SCAN_SCALE (${PR_GET_PTE_A_SCAN_SCALE}), by number or name`,
      ),
    arg2: PrctlArg.optional(),
    arg3: PrctlArg.optional(),
    arg4: PrctlArg.optional(),
    arg5: PrctlArg.optional(),
  })
  .meta({ id: 'PrctlRequest' })

export const PrctlResult = z
  .object({ result: z.number().int().describe('the syscall result: 0, or the scale for GET') })
  .meta({ id: 'PrctlResult' })

export const Exited = z
  .object({ pid: z.number().int(), exited: z.literal(true) })
  .meta({ id: 'Exited' })
