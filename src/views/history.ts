/**
 * The kernel's history (src/kernel/history.ts) as GET /sim/history and the event stream's
 * snapshot show it: JSON arrays with null where a ring holds no value, and a sar-like table
 * of the machine-wide series for `cat`.
 */
import { HISTORY_COUNTERS } from '../kernel/history.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { History } from '../schemas/history.ts'

const INTERVAL_MS = 1000

const values = (a: Float64Array): (number | null)[] =>
  Array.from(a, (v) => (Number.isNaN(v) ? null : v))

/** The history, or with `after` (a virtual second) only the samples after it. */
export function historyJson(k: Kernel, after?: number): History {
  const h = k.history.series(after)
  return {
    now: k.now,
    interval_ms: INTERVAL_MS,
    capacity_s: h.capacity,
    time_s: Array.from(h.seconds),
    rates: Object.fromEntries(HISTORY_COUNTERS.map((c) => [c, values(h.rates[c])])),
    cpu_percent: Object.fromEntries(
      Object.entries(h.cpuPercent).map(([name, s]) => [name, values(s)]),
    ),
    processes: h.processes.map((p) => ({
      pid: p.pid,
      comm: p.comm,
      since_s: p.since,
      pages_per_node: p.pagesPerNode.map(values),
      top_tier_hit_ratio: values(p.hitRatio),
      mean_latency_ns: values(p.latencyNs),
      scan_period: values(p.scanPeriod),
      scan_size: values(p.scanSize),
    })),
  }
}

const cell = (v: number | null) => (v === null ? '-' : String(+v.toFixed(2)))

/**
 * One row per second: TIME_S, each counter's rate per second, each kernel thread's CPU %
 * (the per-process series are in the JSON).
 */
export function historyRows(h: History): string[][] {
  const cpu = Object.entries(h.cpu_percent)
  const header = [
    'TIME_S',
    ...HISTORY_COUNTERS.map((c) => `${c.toUpperCase()}/S`),
    ...cpu.map(([name]) => `${name.toUpperCase()}_CPU%`),
  ]
  return [
    header,
    ...h.time_s.map((t, i) => [
      String(t),
      ...HISTORY_COUNTERS.map((c) => cell(h.rates[c][i])),
      ...cpu.map(([, s]) => cell(s[i])),
    ]),
  ]
}
