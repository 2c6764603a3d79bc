/**
 * Prometheus metrics. The simulation's figures are read from the kernel at scrape time
 * (prom-client `collect()` callbacks), so the kernel stays the one source of truth: vmstat
 * counters, tunables (from the sysfs table), threads, pages per node and tier, per-process
 * promotions, demotions and quality. Request metrics are counted by hooks, the event stream
 * reports through `EventStreamStats`, and prom-client adds the default process metrics.
 *
 * Names follow the Prometheus conventions: a `kscand_sim_` prefix, `_total` on counters and
 * base units (`_seconds`; tunables in ms are exported in seconds).
 */
import type { FastifyInstance } from 'fastify'
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from 'prom-client'
import { DISCONNECTS, type EventStreamStats } from '../events/protocol.ts'
import type { Persistence } from '../host/persist.ts'
import type { SimRunner } from '../host/runner.ts'
import type { Kernel } from '../kernel/kernel.ts'
import { VMSTAT_NAMES } from '../kernel/vmstat.ts'
import { sysfsTable } from '../sysfs/table.ts'

export const PREFIX = 'kscand_sim_'

export interface MetricsSources {
  readonly kernel: Kernel
  readonly runner: SimRunner
  readonly persistence?: Persistence | null
  /**
   * Processes (lowest pids first) that get per-process series; the others are counted in
   * `processes_omitted`, so a scrape costs the same at 4 000 processes as at this many.
   */
  readonly maxProcessSeries?: number
}

/** Default of METRICS_MAX_PROCESSES. */
export const DEFAULT_METRICS_MAX_PROCESSES = 256

type Sample = readonly [LabelValues<string>, number]
type Read = () => Iterable<Sample>

const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

const THREAD_STATES = ['running', 'sleeping', 'paused', 'stopped'] as const

/**
 * `/sys/kernel/mm/kscand/scan_sleep_ms` → `tunable_kscand_scan_sleep_seconds`, ×0.001; MB and
 * MB/s knobs in bytes; `/proc/sys/kernel/x` → `tunable_sysctl_kernel_x`.
 */
export function tunableMetric(path: string): { name: string; scale: number; unit?: string } {
  const slug = path
    .replace(/^\/sys\/kernel\/mm\//, '')
    .replace(/^\/sys\//, '')
    .replace(/^\/proc\/sys\//, 'sysctl_')
    .replace(/[^A-Za-z0-9]+/g, '_')
  const units = [
    ['_ms', 'seconds', 1e-3],
    ['_mb', 'bytes', 2 ** 20],
    ['_MBps', 'bytes_per_second', 2 ** 20],
  ] as const
  for (const [suffix, unit, scale] of units) {
    if (slug.endsWith(suffix))
      return { name: `tunable_${slug.slice(0, -suffix.length)}_${unit}`, scale, unit }
  }
  return { name: `tunable_${slug}`, scale: 1 }
}

function numeric(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0
  return Number(v)
}

export class Metrics {
  readonly registry = new Registry()
  private readonly requests: Counter
  private readonly durations: Histogram
  private eventStream: (() => EventStreamStats) | null = null

  constructor(src: MetricsSources) {
    const reg = this.registry
    const counter = (name: string, help: string, labelNames: string[], read: Read) =>
      new Counter({
        name: PREFIX + name,
        help,
        labelNames,
        registers: [reg],
        collect() {
          this.reset()
          for (const [labels, v] of read()) this.inc(labels, v)
        },
      })
    const gauge = (name: string, help: string, labelNames: string[], read: Read) =>
      new Gauge({
        name: PREFIX + name,
        help,
        labelNames,
        registers: [reg],
        collect() {
          this.reset()
          for (const [labels, v] of read()) this.set(labels, v)
        },
      })
    const one = (v: number): Iterable<Sample> => [[{}, v]]
    const k = src.kernel

    for (const name of VMSTAT_NAMES) {
      counter(`vmstat_${name}_total`, `/proc/vmstat ${name}.`, [], () => one(k.vmstat.get(name)))
    }

    for (const f of sysfsTable(k).filter((file) => file.write)) {
      const { name, scale, unit } = tunableMetric(f.path)
      const doc = f.doc.split(/(?<=\.)\s/)[0]
      gauge(name, `${f.path}${unit ? ` (in ${unit.replace(/_/g, ' ')})` : ''}: ${doc}`, [], () =>
        one(numeric(f.json()) * scale),
      )
    }

    gauge('thread_state', 'Kernel thread state: 1 for the current one.', ['thread', 'state'], () =>
      k
        .threads()
        .flatMap((t) =>
          THREAD_STATES.map((s) => [{ thread: t.comm, state: s }, t.state === s ? 1 : 0] as const),
        ),
    )
    counter('thread_cycles_total', 'Work cycles a kernel thread completed.', ['thread'], () =>
      k.threads().map((t) => [{ thread: t.comm }, t.cycles] as const),
    )
    counter(
      'thread_cpu_seconds_total',
      'Virtual CPU time charged to a kernel thread.',
      ['thread'],
      () => k.threads().map((t) => [{ thread: t.comm }, t.cpuNs / 1e9] as const),
    )

    const nodes = () => k.machine.nodes
    gauge(
      'node_pages',
      'Pages of a NUMA node, used or free (4 KiB each).',
      ['node', 'tier', 'state'],
      () =>
        nodes().flatMap((n) => {
          const at = { node: String(n.id), tier: String(n.memtier) }
          return [
            [{ ...at, state: 'used' }, n.pages - n.free],
            [{ ...at, state: 'free' }, n.free],
          ] as const
        }),
    )
    gauge('tier_pages', 'Pages of a memory tier, used or free.', ['tier', 'state'], () => {
      const sums = new Map<number, { used: number; free: number }>()
      for (const n of nodes()) {
        const s = sums.get(n.memtier) ?? { used: 0, free: 0 }
        s.used += n.pages - n.free
        s.free += n.free
        sums.set(n.memtier, s)
      }
      return [...sums].flatMap(([tier, s]) => [
        [{ tier: String(tier), state: 'used' }, s.used] as const,
        [{ tier: String(tier), state: 'free' }, s.free] as const,
      ])
    })

    gauge(
      'numa_hot_threshold_seconds',
      'NUMA balancing: the hot threshold of a top-tier node (nbp_threshold, else hot_threshold_ms).',
      ['node'],
      () =>
        nodes().flatMap((n) =>
          n.toptier ? [[{ node: String(n.id) }, k.numab.threshold(n.id) / 1e3] as const] : [],
        ),
    )

    const maxSeries = src.maxProcessSeries ?? DEFAULT_METRICS_MAX_PROCESSES
    const stats = () =>
      k
        .processList()
        .slice(0, maxSeries)
        .map((p) => {
          const s = k.processStats(p.pid)
          return { labels: { pid: String(p.pid), comm: p.comm }, s }
        })
    type Pick = (s: ReturnType<typeof k.processStats>) => number | null
    const perProcess = (pick: Pick) =>
      stats().flatMap(({ labels, s }) => {
        const v = pick(s)
        return v === null ? [] : [[labels, v] as const]
      })
    const proc = ['pid', 'comm']
    gauge('processes', 'Simulated processes.', [], () => one(k.processList().length))
    gauge(
      'processes_omitted',
      'Processes left out of the process_* series (past METRICS_MAX_PROCESSES, highest pids).',
      [],
      () => one(Math.max(0, k.processList().length - maxSeries)),
    )
    gauge('process_pages', 'Pages of a process on a node.', [...proc, 'node'], () =>
      stats().flatMap(({ labels, s }) =>
        s.pagesPerNode.map((n, node) => [{ ...labels, node: String(node) }, n] as const),
      ),
    )
    const processCounters: [string, string, Pick][] = [
      ['promoted_pages_total', 'Pages of a process promoted.', (s) => s.promoted],
      ['demoted_pages_total', 'Pages of a process demoted.', (s) => s.demoted],
      ['queued_pages_total', 'Slow-tier pages kscand queued for promotion.', (s) => s.queued],
      [
        'numa_task_seconds_total',
        'CPU time of its task in NUMA balancing: scans, hint faults and their migrations.',
        (s) => (s.numa ? (s.numa.scanNs + s.numa.faultNs) / 1e9 : null),
      ],
    ]
    const processGauges: [string, string, Pick][] = [
      [
        'toptier_hit_ratio',
        'Access-weighted share of accesses served by top-tier nodes.',
        (s) => s.topTierHitRatio,
      ],
      [
        'mean_latency_seconds',
        'Access-weighted mean load latency of a process.',
        (s) => (s.meanLatencyNs === null ? null : s.meanLatencyNs / 1e9),
      ],
      [
        'precision_ratio',
        'Share of queued slow-tier pages that were truly hot.',
        (s) => s.precision,
      ],
      [
        'recall_ratio',
        'Share of truly hot slow-tier pages kscand examined that it queued.',
        (s) => s.recall,
      ],
      ['pte_scan_scale', 'PR_SET_PTE_A_SCAN_SCALE of a process.', (s) => s.pte_scan_scale],
      [
        'scan_period_seconds',
        'Current scan period of a process.',
        (s) => (s.scan ? s.scan.scan_period / 1e3 : null),
      ],
      [
        'migration_pending_pages',
        'Pages waiting on kmigrated.',
        (s) => s.migration?.pending ?? null,
      ],
      [
        'numa_scan_period_seconds',
        'NUMA balancing: the scan period of a process’s task, per window.',
        (s) => (s.numa ? s.numa.numa_scan_period / 1e3 : null),
      ],
      [
        'time_to_finish_seconds',
        'A closed-loop process: the time it took to spend its access budget.',
        (s) => (s.closedLoop?.timeToFinishMs == null ? null : s.closedLoop.timeToFinishMs / 1e3),
      ],
    ]
    for (const [name, help, pick] of processCounters) {
      counter(`process_${name}`, help, proc, () => perProcess(pick))
    }
    for (const [name, help, pick] of processGauges) {
      gauge(`process_${name}`, help, proc, () => perProcess(pick))
    }

    gauge('virtual_time_seconds', 'Virtual time of the simulation.', [], () => one(k.now / 1e3))
    gauge('speed_ratio', 'Virtual seconds per wall second in realtime mode.', [], () =>
      one(src.runner.status().speed),
    )
    gauge('lag_seconds', 'Virtual time the simulation is behind its realtime target.', [], () =>
      one(src.runner.status().lagMs / 1e3),
    )
    gauge('mode', 'How the clock runs: 1 for the current mode.', ['mode'], () => {
      const mode = src.runner.status().mode
      return (['realtime', 'paused', 'afap'] as const).map(
        (m) => [{ mode: m }, m === mode ? 1 : 0] as const,
      )
    })

    const ev = () => this.eventStream?.() ?? null
    const stream = (pick: (s: EventStreamStats) => number) => () => {
      const s = ev()
      return s ? one(pick(s)) : []
    }
    gauge(
      'events_subscribers',
      'Event-stream subscribers connected.',
      [],
      stream((s) => s.subscribers),
    )
    counter(
      'events_batches_total',
      'Event-stream batch frames sent.',
      [],
      stream((s) => s.batches),
    )
    counter(
      'events_sent_total',
      'Events delivered to subscribers.',
      [],
      stream((s) => s.events),
    )
    counter(
      'events_lost_total',
      'Events reported lost to slow subscribers.',
      [],
      stream((s) => s.lost),
    )
    counter(
      'events_disconnects_total',
      `Event-stream subscribers disconnected, by reason: ${DISCONNECTS.join(', ')}.`,
      ['reason'],
      () => Object.entries(ev()?.disconnects ?? {}).map(([reason, n]) => [{ reason }, n] as const),
    )

    // Without a state file these families have no samples.
    const p = src.persistence ?? null
    counter('state_file_saves_total', 'Writes of the state file.', [], () =>
      p ? one(p.saves) : [],
    )
    counter('state_file_save_failures_total', 'Failed writes of the state file.', [], () =>
      p ? one(p.failures) : [],
    )
    gauge(
      'state_file_last_save_timestamp_seconds',
      'Wall time of the last write of the state file.',
      [],
      () => (p === null || p.lastSaveAt === null ? [] : one(p.lastSaveAt / 1e3)),
    )

    this.requests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      registers: [reg],
    })
    this.durations = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time to answer an HTTP request.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [reg],
    })
    collectDefaultMetrics({ register: reg })
    // Gauges named like counters, which promtool rejects; nodejs_active_{handles,requests,
    // resources}{type} carry the same figures.
    for (const name of MISNAMED_DEFAULTS) reg.removeSingleMetric(name)
  }

  /**
   * Where the event-stream figures come from: the event stream plugin passes its hub's
   * accessor. Without an event stream the events_* families have no samples.
   */
  feedEventStream(source: () => EventStreamStats): void {
    this.eventStream = source
  }

  /** Counts requests on `fastify` and everything registered after (hooks are inherited). */
  countRequests(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', async (req, reply) => {
      // The route template, not the URL: unmatched URLs must not create series.
      const route = req.routeOptions.url ?? 'unmatched'
      this.requests.inc({ method: req.method, route, status_code: String(reply.statusCode) })
      this.durations.observe({ method: req.method, route }, reply.elapsedTime / 1e3)
    })
  }
}
