/** The benchmark table: every figure with the baseline measured in the same run. */

export interface BenchRow {
  /** What is measured. */
  readonly name: string
  readonly value: number
  readonly unit: string
  /** A baseline measured in the same run, and this figure divided by it. */
  readonly baseline?: { readonly name: string; readonly value: number }
  /** The bar, in words, and whether this run meets it. */
  readonly target?: string
  readonly pass?: boolean
}

export type BenchSuite = () => Promise<BenchRow[]>

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`
  if (a >= 100) return x.toFixed(0)
  return x.toFixed(a >= 10 ? 1 : 3)
}

export function renderTable(rows: readonly BenchRow[]): string {
  const head = ['benchmark', 'value', 'unit', 'baseline', 'ratio', 'target', 'ok']
  const body = rows.map((r) => [
    r.name,
    fmt(r.value),
    r.unit,
    r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : '',
    r.baseline ? (r.value / r.baseline.value).toFixed(3) : '',
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  ])
  const all = [head, ...body]
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)))
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n')
}
