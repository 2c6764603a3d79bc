/**
 * What a dashboard needs besides the events: the state a stream starts from (the snapshot)
 * and the periodic figures it charts (stats). Built from the kernel's own accessors; the
 * tunables are the writable files of the sysfs table, so they are exactly what a client can
 * read and write over HTTP; threads and processes look as GET /threads and /processes/PID
 * show them.
 */
import { z } from 'zod'
import type { Kernel } from '../kernel/kernel.ts'
import { VMSTAT_NAMES, type VmstatName } from '../kernel/vmstat.ts'
import { ProcessDetail } from '../schemas/processes.ts'
import type { Thread } from '../schemas/threads.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { processDetail } from '../views/process.ts'
import { threadJson } from '../views/thread.ts'
import { FULL_NAMES } from './format.ts'

const Ratio = z.number().min(0).max(1).nullable()

export const Node = z.object({
  id: z.number().int(),
  label: z.string(),
  toptier: z.boolean(),
  memtier: z.number().int(),
  cpus: z.boolean(),
  latency_ns: z.number(),
  pages: z.number().int(),
  free: z.number().int(),
})

export const Counters = z.object(
  Object.fromEntries(VMSTAT_NAMES.map((n) => [n, z.number()])) as Record<VmstatName, z.ZodNumber>,
)

export const Rates = z
  .object(
    Object.fromEntries(VMSTAT_NAMES.map((n) => [n, z.number().nullable()])) as Record<
      VmstatName,
      z.ZodNullable<z.ZodNumber>
    >,
  )
  .describe('counter increase per virtual second since the previous stats; null if time stood')

export const Tracing = z.object({
  on: z.boolean().describe('tracing_on'),
  events: z
    .object(Object.fromEntries(FULL_NAMES.map((n) => [n, z.boolean()])))
    .describe(
      "tracefs's per-event enable (events/SYSTEM/EVENT/enable); the stream carries what " +
        'its subscription selects, whatever these say',
    ),
})

/** The writable sysfs files by path; their value schemas come from the sysfs table. */
export function tunablesSchema(files: readonly SysfsFile[]) {
  return z.object(Object.fromEntries(files.filter((f) => f.write).map((f) => [f.path, f.value])))
}

/** A process in `stats`: GET /processes/PID, and the share of its pages on the top tier. */
export const Occupancy = ProcessDetail.extend({
  toptier_share: Ratio.describe('share of the pages on top-tier nodes'),
})

export function threads(k: Kernel): Thread[] {
  return k.threads().map(threadJson)
}

export function nodes(k: Kernel): z.infer<typeof Node>[] {
  return k.machine.nodes.map((n) => ({
    id: n.id,
    label: n.label,
    toptier: n.toptier,
    memtier: n.memtier,
    cpus: n.cpus,
    latency_ns: n.latency_ns,
    pages: n.pages,
    free: n.free,
  }))
}

export function processes(k: Kernel): ProcessDetail[] {
  return k.processList().map((p) => processDetail(k, p))
}

export function tunables(files: readonly SysfsFile[]): Record<string, unknown> {
  return Object.fromEntries(files.filter((f) => f.write).map((f) => [f.path, f.json()]))
}

/** tracefs's state: tracing_on and the enable of each event (1 at enabled ids). */
export function tracing(enabled: Uint8Array, on: boolean): z.infer<typeof Tracing> {
  return { on, events: Object.fromEntries(FULL_NAMES.map((n, i) => [n, enabled[i] === 1])) }
}

/**
 * Counters and their rates per virtual second: each call compares with the previous one.
 */
export class StatsSampler {
  private prev: Float64Array
  private prevNow: number

  constructor(private readonly k: Kernel) {
    this.prev = k.vmstat.v.slice()
    this.prevNow = k.now
  }

  sample() {
    const { k } = this
    const v = k.vmstat.v
    const dt = (k.now - this.prevNow) / 1000
    const counters = {} as Record<VmstatName, number>
    const rates = {} as Record<VmstatName, number | null>
    VMSTAT_NAMES.forEach((n, i) => {
      counters[n] = v[i]
      rates[n] = dt > 0 ? (v[i] - this.prev[i]) / dt : null
    })
    this.prev = v.slice()
    this.prevNow = k.now
    return { counters, rates }
  }
}

export const StatsNode = z.object({
  id: z.number().int(),
  free: z.number().int(),
  hot_threshold_ms: z
    .number()
    .nullable()
    .describe(
      'NUMA balancing: the hot threshold of a top-tier node (nbp_threshold, else ' +
        'hot_threshold_ms); null on a slow-tier node',
    ),
})

/** The nodes as `stats` carries them: what changes as the simulation runs. */
export function statsNodes(k: Kernel): z.infer<typeof StatsNode>[] {
  return k.machine.nodes.map((n) => ({
    id: n.id,
    free: n.free,
    hot_threshold_ms: n.toptier ? k.numab.threshold(n.id) : null,
  }))
}

/** The processes as `stats` carries them. */
export function occupancy(k: Kernel): z.infer<typeof Occupancy>[] {
  const top = k.machine.nodes.map((n) => n.toptier)
  return processes(k).map((p) => {
    const total = p.pages_per_node.reduce((a, b) => a + b, 0)
    const onTop = p.pages_per_node.reduce((a, b, n) => a + (top[n] ? b : 0), 0)
    return { ...p, toptier_share: total > 0 ? onTop / total : null }
  })
}
