/**
 * The dashboard's series (public/js/main.js charts them from `stats`), sampled at the
 * scenario's interval: the machine's rates per virtual second — promotions, kscand's
 * migration failures, demotions, NUMA hint faults and promotion candidates — each node's
 * free pages, and per process its pages on the top and the slow tier, its top-tier hit
 * ratio and mean latency, and kscand's scan_period and scan_size for it. series.csv has one
 * row a sample and a column a series; a process's columns are empty before it exists and
 * after it exits.
 */
import { StatsSampler } from '../events/state.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { VmstatName } from '../kernel/vmstat.ts'

/** Machine-wide rates: the column and the vmstat counter it is the rate of. */
const RATES: readonly (readonly [string, VmstatName])[] = [
  ['promotions_per_s', 'pgpromote_success'],
  ['migrate_failures_per_s', 'nr_kscand_migrate_failed'],
  ['demotions_per_s', 'pgdemote_kswapd'],
  ['hint_faults_per_s', 'numa_hint_faults'],
  ['promote_candidates_per_s', 'pgpromote_candidate'],
]

const PROCESS_COLUMNS = [
  'top_pages',
  'slow_pages',
  'hit_ratio',
  'mean_latency_ns',
  'scan_period_ms',
  'scan_size_bytes',
] as const

type Cell = number | null

export class Series {
  private readonly sampler: StatsSampler
  private readonly fixed: string[]
  /** Process column prefixes (`comm:pid`) in the order they first appeared. */
  private readonly procs: string[] = []
  private readonly rows: Map<string, Cell>[] = []

  constructor(private readonly kernel: Kernel) {
    this.sampler = new StatsSampler(kernel)
    this.fixed = [
      'time_s',
      ...RATES.map(([c]) => c),
      ...kernel.machine.nodes.map((n) => `node${n.id}_free_pages`),
    ]
  }

  /** One row, now. */
  sample(): void {
    const k = this.kernel
    const { rates } = this.sampler.sample()
    const row = new Map<string, Cell>()
    row.set('time_s', k.now / 1000)
    for (const [column, counter] of RATES) row.set(column, rates[counter])
    for (const n of k.machine.nodes) row.set(`node${n.id}_free_pages`, n.free)
    const top = k.machine.nodes.map((n) => n.toptier)
    for (const p of k.processList()) {
      const key = `${p.comm}:${p.pid}`
      if (!this.procs.includes(key)) this.procs.push(key)
      const s = k.processStats(p.pid)
      const onTop = s.pages_per_node.reduce((a, v, n) => a + (top[n] ? v : 0), 0)
      const values: Record<(typeof PROCESS_COLUMNS)[number], Cell> = {
        top_pages: onTop,
        slow_pages: p.mm.nrPages - onTop,
        hit_ratio: s.top_tier_hit_ratio,
        mean_latency_ns: s.mean_latency_ns,
        scan_period_ms: s.scan?.scan_period ?? null,
        scan_size_bytes: s.scan?.scan_size ?? null,
      }
      for (const c of PROCESS_COLUMNS) row.set(`${key}:${c}`, values[c])
    }
    this.rows.push(row)
  }

  get length(): number {
    return this.rows.length
  }

  columns(): string[] {
    return [...this.fixed, ...this.procs.flatMap((p) => PROCESS_COLUMNS.map((c) => `${p}:${c}`))]
  }

  /** A row a sample, a value per column() (null: empty). */
  table(): Cell[][] {
    const columns = this.columns()
    return this.rows.map((row) => columns.map((c) => row.get(c) ?? null))
  }

  /** series.csv: a header, then a row a sample (RFC 4180 quoting where a name needs it). */
  csv(): string {
    const lines = [this.columns().map(csvField).join(',')]
    for (const row of this.table()) lines.push(row.map(cell).join(','))
    return `${lines.join('\n')}\n`
  }
}

function cell(v: Cell): string {
  return v === null ? '' : String(v)
}

/** A CSV field, RFC 4180-quoted where it needs to be. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}
