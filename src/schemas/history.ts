/** GET /sim/history and the `history` of the event stream's snapshot. */
import { z } from 'zod'
import { HISTORY_COUNTERS } from '../kernel/history.ts'

const Series = (what: string) =>
  z.array(z.number().nullable()).describe(`${what}; one per entry of time_s (null: none)`)

export const ProcessHistory = z
  .object({
    pid: z.number().int(),
    comm: z.string(),
    since_s: z
      .number()
      .int()
      .describe('the first virtual second sampled for this process; earlier entries are null'),
    pages_per_node: z.array(Series('pages on node N')).describe('one series per node'),
    top_tier_hit_ratio: Series('access-weighted share served by top-tier nodes, 0 to 1'),
    mean_latency_ns: Series('access-weighted mean load latency, ns'),
    scan_period: Series('kscand scan_period of its mm, ms'),
    scan_size: Series('kscand scan_size of its mm, bytes'),
  })
  .meta({ id: 'ProcessHistory' })

export const History = z
  .object({
    now: z.number().describe('virtual ms when the history was read'),
    interval_ms: z.number().int().describe('virtual ms between samples'),
    capacity_s: z
      .number()
      .int()
      .describe('HISTORY_SECONDS: the most samples kept (the oldest go first)'),
    time_s: z
      .array(z.number().int())
      .describe('the virtual second of each sample, oldest first, one per second'),
    rates: z
      .object(
        Object.fromEntries(HISTORY_COUNTERS.map((c) => [c, Series(`${c} increase per virtual s`)])),
      )
      .describe('vmstat counters: the increase per virtual second over the second to time_s[i]'),
    cpu_percent: z
      .record(z.string(), Series('CPU used in the second, % of one CPU'))
      .describe('per kernel thread, by name'),
    processes: z
      .array(ProcessHistory)
      .describe('the first HISTORY_PROCESSES live processes, in pid order'),
  })
  .meta({ id: 'History' })

export type History = z.infer<typeof History>
