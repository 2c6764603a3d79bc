/**
 * Prometheus metrics. The simulation's figures are read from their sources at scrape time, so
 * each source stays the one truth; src/metrics/ declares them as one list per source (vmstat,
 * tunables, threads, memory, processes in kernel.ts; clock, build, event stream, state file in
 * host.ts). Request metrics are counted by hooks, the event stream reports through
 * `EventStreamStats`, and prom-client adds the default process metrics.
 *
 * Names follow the Prometheus conventions: a `kscand_sim_` prefix, `_total` on counters, base
 * units (bytes, seconds), ids as labels; /proc/vmstat goes under node_exporter's
 * `node_vmstat_<field>` names instead.
 */
import type { FastifyInstance } from 'fastify'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import type { EventStreamStats } from '../events/protocol.ts'
import type { Persistence } from '../host/persist.ts'
import type { SimRunner } from '../host/runner.ts'
import type { Kernel } from '../kernel/kernel.ts'
import { PREFIX, register } from './family.ts'
import { buildFamilies, clockFamilies, eventStreamFamilies, stateFileFamilies } from './host.ts'
import {
  memoryFamilies,
  numaBalancingFamilies,
  processFamilies,
  threadFamilies,
  tunableFamilies,
  vmstatFamilies,
} from './kernel.ts'

export interface MetricsSources {
  readonly kernel: Kernel
  readonly runner: SimRunner
  readonly persistence?: Persistence | null
  /** kscand-sim's version, for build_info (src/daemon/version.ts). */
  readonly version: string
  /**
   * Processes (lowest pids first) that get per-process series; the others are counted in
   * `processes_omitted`, so a scrape costs the same at 4 000 processes as at this many.
   */
  readonly maxProcessSeries?: number
}

/** Default of METRICS_MAX_PROCESSES. */
export const DEFAULT_METRICS_MAX_PROCESSES = 256

const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

export class Metrics {
  readonly registry = new Registry()
  private readonly requests: Counter
  private readonly durations: Histogram
  private eventStream: (() => EventStreamStats) | null = null

  constructor(src: MetricsSources) {
    const reg = this.registry
    const k = src.kernel
    // One list per source, in the order of the README table.
    register(reg, [
      ...vmstatFamilies(k),
      ...tunableFamilies(k),
      ...threadFamilies(k),
      ...memoryFamilies(k),
      ...numaBalancingFamilies(k),
      ...processFamilies(k, src.maxProcessSeries ?? DEFAULT_METRICS_MAX_PROCESSES),
      ...clockFamilies(k, src.runner),
      ...buildFamilies(src.version),
      ...eventStreamFamilies(() => this.eventStream?.() ?? null),
      ...stateFileFamilies(src.persistence ?? null),
    ])

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
