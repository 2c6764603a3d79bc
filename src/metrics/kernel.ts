/**
 * The kernel's figures, one list per source as the sysfs table is one list per group:
 * /proc/vmstat, the tunables, the kernel threads, memory per node and tier, NUMA balancing,
 * and the processes. Sizes are in bytes; event counts (promotions, demotions, queued pages) count
 * pages, as /proc/vmstat does.
 */
import { PAGE_SIZE } from '../kernel/constants.ts'
import type { Kernel, ProcessStats } from '../kernel/kernel.ts'
import { STALL_CAUSES } from '../kernel/stall.ts'
import { VMSTAT_NAMES } from '../kernel/vmstat.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { sysfsTable } from '../sysfs/table.ts'
import { type Family, one, PREFIX, type Sample } from './family.ts'

/**
 * /proc/vmstat under node_exporter's names and types (its vmstat collector exports each
 * field as an untyped `node_vmstat_<field>`), so panels and alerts written for
 * node_exporter work against the simulator's job unchanged.
 */
export function vmstatFamilies(k: Kernel): Family[] {
  return VMSTAT_NAMES.map((name) => ({
    name: `node_vmstat_${name}`,
    type: 'untyped',
    help: `/proc/vmstat information field ${name}.`,
    read: () => one(k.vmstat.get(name)),
  }))
}

function numeric(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0
  return Number(v)
}

/** Tunables whose value is an id: exported as an info metric with the id in this label. */
const ID_LABELS: Readonly<Record<string, string>> = {
  '/sys/kernel/mm/kscand/target_node': 'node',
}

/** How one writable file appears in /metrics: its family, its labels and its value. */
export interface TunableSeries {
  readonly name: string
  /** The family's help when several files share it (the quirks). */
  readonly help?: string
  labels(json: unknown): Record<string, string>
  value(json: unknown): number
}

/** Name prefixes of directories whose file names alone would not say whose knobs they are. */
const DIR_PREFIXES: Readonly<Record<string, string>> = {
  '/sys/kernel/debug/sched/numa_balancing': 'numa_balancing_',
}

/** Unit suffixes of file names: the base unit they are exported in and the factor to it. */
const UNITS = [
  ['_ms', '_seconds', 1e-3],
  ['_mb', '_bytes', 2 ** 20],
  ['_MBps', '_bytes_per_second', 2 ** 20],
] as const

/**
 * `…/kscand/scan_sleep_ms` → `kscand_sim_tunable_scan_sleep_seconds` (×0.001; MB and MB/s
 * in bytes); NUMA balancing's debugfs files get `numa_balancing_` as the sysctls have it;
 * `…/<group>/quirks/<name>` → `kscand_sim_quirk{group,name}`; an id (target_node) →
 * `kscand_sim_tunable_target_node_info{node} 1`.
 */
export function tunableSeries(path: string): TunableSeries {
  const dir = path.slice(0, path.lastIndexOf('/'))
  const base = path.slice(dir.length + 1)
  const none = () => ({})
  if (dir.endsWith('/quirks')) {
    const group = dir.slice(0, -'/quirks'.length).split('/').at(-1) ?? ''
    return {
      name: `${PREFIX}quirk`,
      help: 'A quirk of the modelled kernel code (/sys/kernel/…/<group>/quirks/<name>): 1 reproduces it, 0 switches it off.',
      labels: () => ({ group, name: base }),
      value: numeric,
    }
  }
  const name = `${PREFIX}tunable_${DIR_PREFIXES[dir] ?? ''}`
  const id = ID_LABELS[path]
  if (id) {
    return { name: `${name}${base}_info`, labels: (v) => ({ [id]: String(v) }), value: () => 1 }
  }
  for (const [suffix, unit, scale] of UNITS) {
    if (base.endsWith(suffix)) {
      return {
        name: `${name}${base.slice(0, -suffix.length)}${unit}`,
        labels: none,
        value: (v) => numeric(v) * scale,
      }
    }
  }
  return { name: `${name}${base}`, labels: none, value: numeric }
}

/** Every writable file of the sysfs table, grouped by family (the quirks share one). */
export function tunableFamilies(k: Kernel): Family[] {
  const groups = new Map<string, { file: SysfsFile; series: TunableSeries }[]>()
  for (const file of sysfsTable(k).filter((f) => f.write)) {
    const series = tunableSeries(file.path)
    const group = groups.get(series.name)
    if (group) group.push({ file, series })
    else groups.set(series.name, [{ file, series }])
  }
  return [...groups].map(([name, group]) => {
    const { file: f, series } = group[0]
    const labels = Object.keys(series.labels(f.json()))
    if (group.length > 1 && series.help === undefined) {
      throw new Error(`${group.map((g) => g.file.path).join(' and ')} would share ${name}`)
    }
    const unit = UNITS.find(([suffix]) => f.path.endsWith(suffix))?.[1].slice(1)
    const inUnit = unit ? ` (in ${unit.replaceAll('_', ' ')})` : ''
    return {
      name,
      type: 'gauge',
      help: series.help ?? `${f.path}${inUnit}: ${f.doc.split(/(?<=\.)\s/)[0]}`,
      labels,
      read: () =>
        group.map(({ file, series: s }) => {
          const v = file.json()
          return [s.labels(v), s.value(v)] as const
        }),
    }
  })
}

const THREAD_STATES = ['running', 'sleeping', 'paused', 'stopped'] as const

export function threadFamilies(k: Kernel): Family[] {
  return [
    {
      name: `${PREFIX}thread_state`,
      type: 'gauge',
      help: 'Kernel thread state: 1 for the current one.',
      labels: ['thread', 'state'],
      read: () =>
        k
          .threads()
          .flatMap((t) =>
            THREAD_STATES.map(
              (s) => [{ thread: t.comm, state: s }, t.state === s ? 1 : 0] as const,
            ),
          ),
    },
    {
      name: `${PREFIX}thread_cycles_total`,
      type: 'counter',
      help: 'Work cycles a kernel thread completed.',
      labels: ['thread'],
      read: () => k.threads().map((t) => [{ thread: t.comm }, t.cycles] as const),
    },
    {
      name: `${PREFIX}thread_cpu_seconds_total`,
      type: 'counter',
      help: 'Virtual CPU time charged to a kernel thread.',
      labels: ['thread'],
      read: () => k.threads().map((t) => [{ thread: t.comm }, t.cpu_ns / 1e9] as const),
    },
  ]
}

export function memoryFamilies(k: Kernel): Family[] {
  const nodes = () => k.machine.nodes
  const usedFree = (labels: Record<string, string>, used: number, free: number): Sample[] => [
    [{ ...labels, state: 'used' }, used * PAGE_SIZE],
    [{ ...labels, state: 'free' }, free * PAGE_SIZE],
  ]
  return [
    {
      name: `${PREFIX}node_memory_bytes`,
      type: 'gauge',
      help: 'Memory of a NUMA node, used or free.',
      labels: ['node', 'tier', 'state'],
      read: () =>
        nodes().flatMap((n) =>
          usedFree({ node: String(n.id), tier: String(n.memtier) }, n.pages - n.free, n.free),
        ),
    },
    {
      name: `${PREFIX}tier_memory_bytes`,
      type: 'gauge',
      help: 'Memory of a memory tier, used or free.',
      labels: ['tier', 'state'],
      read: () => {
        const sums = new Map<number, { used: number; free: number }>()
        for (const n of nodes()) {
          const s = sums.get(n.memtier) ?? { used: 0, free: 0 }
          s.used += n.pages - n.free
          s.free += n.free
          sums.set(n.memtier, s)
        }
        return [...sums].flatMap(([tier, s]) => usedFree({ tier: String(tier) }, s.used, s.free))
      },
    },
  ]
}

export function numaBalancingFamilies(k: Kernel): Family[] {
  return [
    {
      name: `${PREFIX}numa_hot_threshold_seconds`,
      type: 'gauge',
      help: 'NUMA balancing: the hot threshold of a top-tier node (nbp_threshold, else hot_threshold_ms).',
      labels: ['node'],
      read: () =>
        k.machine.nodes.flatMap((n) =>
          n.toptier ? [[{ node: String(n.id) }, k.numab.threshold(n.id) / 1e3] as const] : [],
        ),
    },
  ]
}

type Pick = (s: ProcessStats) => number | null

/** Per-process families (labels pid and comm): [name, type, help, pick]. */
const PROCESS: readonly [string, 'counter' | 'gauge', string, Pick][] = [
  ['promoted_pages_total', 'counter', 'Pages of a process promoted.', (s) => s.promoted],
  ['demoted_pages_total', 'counter', 'Pages of a process demoted.', (s) => s.demoted],
  [
    'queued_pages_total',
    'counter',
    'Slow-tier pages kscand queued for promotion.',
    (s) => s.queued,
  ],
  [
    'numa_task_seconds_total',
    'counter',
    'CPU time of its task in NUMA balancing: scans, hint faults and their migrations.',
    (s) => (s.numa ? (s.numa.scan_ns + s.numa.fault_ns) / 1e9 : null),
  ],
  [
    'toptier_hit_ratio',
    'gauge',
    'Access-weighted share of accesses served by top-tier nodes.',
    (s) => s.top_tier_hit_ratio,
  ],
  [
    'mean_latency_seconds',
    'gauge',
    'Access-weighted mean load latency of a process.',
    (s) => (s.mean_latency_ns === null ? null : s.mean_latency_ns / 1e9),
  ],
  [
    'precision_ratio',
    'gauge',
    'Share of queued slow-tier pages that were truly hot.',
    (s) => s.precision,
  ],
  [
    'recall_ratio',
    'gauge',
    'Share of truly hot slow-tier pages kscand examined that it queued.',
    (s) => s.recall,
  ],
  ['pte_scan_scale', 'gauge', 'PR_SET_PTE_A_SCAN_SCALE of a process.', (s) => s.pte_scan_scale],
  [
    'scan_period_seconds',
    'gauge',
    'Current scan period of a process.',
    (s) => (s.scan ? s.scan.scan_period / 1e3 : null),
  ],
  [
    'scan_size_bytes',
    'gauge',
    'Current scan size of a process: how much address space one scan covers.',
    (s) => s.scan?.scan_size ?? null,
  ],
  [
    'migration_pending_pages',
    'gauge',
    "Pages queued on the process's kmigrated slot, waiting to be migrated.",
    (s) => s.migration?.pending ?? null,
  ],
  [
    'numa_scan_period_seconds',
    'gauge',
    'NUMA balancing: the scan period of a process’s task, per window.',
    (s) => (s.numa ? s.numa.numa_scan_period / 1e3 : null),
  ],
  [
    'time_to_finish_seconds',
    'gauge',
    'A closed-loop process: the time it took to spend its access budget.',
    (s) =>
      s.closed_loop?.time_to_finish_ms == null ? null : s.closed_loop.time_to_finish_ms / 1e3,
  ],
]

/** Per-process series for the first `maxSeries` processes (lowest pids); the rest are counted. */
export function processFamilies(k: Kernel, maxSeries: number): Family[] {
  const stats = () =>
    k
      .processList()
      .slice(0, maxSeries)
      .map((p) => ({
        labels: { pid: String(p.pid), comm: p.comm },
        s: k.processStats(p.pid),
      }))
  const tierOf = (node: number) => String(k.machine.nodes[node].memtier)
  return [
    {
      name: `${PREFIX}processes`,
      type: 'gauge',
      help: 'Simulated processes.',
      read: () => one(k.processList().length),
    },
    {
      name: `${PREFIX}processes_omitted`,
      type: 'gauge',
      help: 'Processes left out of the process_* series (past METRICS_MAX_PROCESSES, highest pids).',
      read: () => one(Math.max(0, k.processList().length - maxSeries)),
    },
    {
      name: `${PREFIX}process_memory_bytes`,
      type: 'gauge',
      help: 'Memory of a process on a node.',
      labels: ['pid', 'comm', 'node', 'tier'],
      read: () =>
        stats().flatMap(({ labels, s }) =>
          s.pages_per_node.map(
            (n, node) =>
              [{ ...labels, node: String(node), tier: tierOf(node) }, n * PAGE_SIZE] as const,
          ),
        ),
    },
    {
      name: `${PREFIX}process_target_node_info`,
      type: 'gauge',
      help: "Always 1; the node a process's pages are promoted to (mm->target_node) as a label.",
      labels: ['pid', 'comm', 'node'],
      read: () =>
        stats().map(({ labels, s }) => [{ ...labels, node: String(s.target_node) }, 1] as const),
    },
    {
      name: `${PREFIX}promotion_stalled`,
      type: 'gauge',
      help:
        'A process whose slow-tier pages are not promoted, by cause (GET /processes/PID says ' +
        `why and names the switch): ${STALL_CAUSES.join(', ')}. 1 while it lasts; no sample ` +
        'otherwise.',
      labels: ['pid', 'comm', 'cause'],
      read: () =>
        stats().flatMap(({ labels, s }) =>
          s.stall ? [[{ ...labels, cause: s.stall.cause }, 1] as const] : [],
        ),
    },
    ...PROCESS.map(
      ([name, type, help, pick]): Family => ({
        name: `${PREFIX}process_${name}`,
        type,
        help,
        labels: ['pid', 'comm'],
        read: () =>
          stats().flatMap(({ labels, s }) => {
            const v = pick(s)
            return v === null ? [] : [[labels, v] as const]
          }),
      }),
    ),
  ]
}
