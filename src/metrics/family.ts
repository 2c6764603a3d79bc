/**
 * A metric family as the sources under src/metrics/ declare it: its name, type, labels and
 * help, and how to read its samples from the source at scrape time. `register` puts a list of
 * them into a prom-client registry; nothing is counted twice, every sample is the source's own
 * figure when the scrape asks for it.
 */
import type { LabelValues, Metric, Registry } from 'prom-client'

/** The prefix of the simulator's own families (node_exporter's names go without it). */
export const PREFIX = 'kscand_sim_'

export type Sample = readonly [LabelValues<string>, number]

export interface Family {
  readonly name: string
  /** `untyped` is what node_exporter declares its vmstat fields as. */
  readonly type: 'counter' | 'gauge' | 'untyped'
  readonly help: string
  readonly labels?: readonly string[]
  read(): Iterable<Sample>
}

/** The one sample of a family without labels. */
export function one(v: number): Sample[] {
  return [[{}, v]]
}

/**
 * prom-client's Registry reads a family through `get()` (and `reset()` on resetMetrics); its
 * types name only prom-client's own classes, hence the one cast.
 */
export function register(reg: Registry, families: readonly Family[]): void {
  for (const f of families) {
    const metric = {
      name: f.name,
      help: f.help,
      type: f.type,
      labelNames: f.labels ?? [],
      aggregator: 'sum',
      get: async () => ({
        name: f.name,
        help: f.help,
        type: f.type,
        aggregator: 'sum',
        values: Array.from(f.read(), ([labels, value]) => ({ labels, value })),
      }),
      reset: () => {},
    }
    reg.registerMetric(metric as unknown as Metric)
  }
}
