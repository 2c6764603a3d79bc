/**
 * A sweep's comparison (docs/experiments.md §9): comparison.csv, one row per cell and process
 * with the cell's matrix values and the process's summary metrics, and comparison.html, the
 * same cells side by side in one self-contained page (no script, no network). Both are made
 * from the cells' summary.json files on disk, so a sweep run whole and one merged from shards
 * give the same bytes.
 */
import { csvField } from './series.ts'
import type { ProcessResult, Summary } from './summary.ts'

export interface ComparedCell {
  readonly index: number
  readonly id: string
  /** The cell's folder, relative to the sweep's. */
  readonly dir: string
  readonly values: Readonly<Record<string, string | number | boolean>>
  readonly summary: Summary
}

/** The per-process columns, in order (summary.json's keys; docs/experiments.md §4). */
const PROCESS_COLUMNS = [
  'started_at_ms',
  'exited_at_ms',
  'pages',
  'time_to_finish_ms',
  'accesses_done',
  'top_tier_hit_ratio',
  'mean_latency_ns',
  'precision',
  'recall',
  'queued',
  'promotions',
  'demotions',
  'hint_faults',
  'numa_scan_cpu_ns',
  'numa_fault_cpu_ns',
  'stalled_ns',
  'pte_scan_scale',
  'target_node',
] as const satisfies readonly (keyof ProcessResult)[]

type Field = string | number | boolean | null

const field = (v: Field) => csvField(v === null ? '' : String(v))

/** The kernel threads of the cells, in the order they first appear. */
const kthreadNames = (cells: readonly ComparedCell[]) => [
  ...new Set(cells.flatMap((c) => c.summary.kthreads.map((t) => t.name))),
]

/** The table: a header and a row per cell and process, cells in index order. */
export function comparisonRows(cells: readonly ComparedCell[], keys: readonly string[]) {
  const threads = kthreadNames(cells)
  const header = [
    'cell',
    ...keys,
    'ended',
    'virtual_ms',
    'pid',
    'comm',
    ...PROCESS_COLUMNS,
    ...threads.map((t) => `${t}_cpu_ns`),
  ]
  const rows: Field[][] = []
  for (const c of cells) {
    const cpu = threads.map((t) => c.summary.kthreads.find((x) => x.name === t)?.cpu_ns ?? null)
    for (const p of c.summary.processes) {
      rows.push([
        c.id,
        ...keys.map((k) => c.values[k] ?? null),
        c.summary.ended,
        c.summary.virtual_ms,
        p.pid,
        p.comm,
        ...PROCESS_COLUMNS.map((col) => p[col]),
        ...cpu,
      ])
    }
  }
  return { header, rows }
}

export function comparisonCsv(cells: readonly ComparedCell[], keys: readonly string[]): string {
  const { header, rows } = comparisonRows(cells, keys)
  return `${[header, ...rows].map((r) => r.map(field).join(',')).join('\n')}\n`
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** How a field reads on the page: ratios as percentages, ns as ms, big counts grouped. */
function shown(column: string, v: Field): string {
  if (v === null) return '—'
  if (typeof v !== 'number') return String(v)
  if (column === 'top_tier_hit_ratio' || column === 'precision' || column === 'recall')
    return `${(v * 100).toFixed(1)} %`
  if (column.endsWith('_cpu_ns') || column === 'stalled_ns') return `${(v / 1e6).toFixed(1)} ms`
  if (column === 'mean_latency_ns') return v.toFixed(1)
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v)
}

/**
 * comparison.html: per process (by comm), a table with a row per cell — its matrix values,
 * then the metrics — so the cells read side by side down each column.
 */
export function comparisonHtml(
  name: string,
  cells: readonly ComparedCell[],
  keys: readonly string[],
): string {
  const { header, rows } = comparisonRows(cells, keys)
  const comm = header.indexOf('comm')
  const first = keys.length + 1
  const comms = [...new Set(rows.map((r) => String(r[comm])))]
  const cellLink = new Map(cells.map((c) => [c.id, `cells/${encodeURI(c.dir)}/summary.json`]))
  const shownColumns = header.map((_, i) => i).filter((i) => i !== comm && i !== 0)
  const tables = comms.map((name) => {
    const head = shownColumns
      .map((i) => `<th scope="col"${i < first ? ' class="key"' : ''}>${escapeHtml(header[i])}</th>`)
      .join('')
    const body = rows
      .filter((r) => r[comm] === name)
      .map((r) => {
        const id = String(r[0])
        const tds = shownColumns
          .map(
            (i) =>
              `<td${i < first ? ' class="key"' : ''}>${escapeHtml(shown(header[i], r[i]))}</td>`,
          )
          .join('')
        return `<tr><th scope="row"><a href="${escapeHtml(cellLink.get(id) ?? '')}">${escapeHtml(id)}</a></th>${tds}</tr>`
      })
      .join('\n')
    return `<section><h2>${escapeHtml(name)}</h2>\n<table><thead><tr><th scope="col">cell</th>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></section>`
  })
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kscand-sim sweep: ${escapeHtml(name)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th[scope=row], .key { text-align: left; background: #f4f4f8; }
thead th { background: #e8e8f0; position: sticky; top: 0; }
tbody tr:hover td { background: #fffbe6; }
</style>
</head>
<body>
<h1>kscand-sim sweep: ${escapeHtml(name)}</h1>
<p>${cells.length} cells (${escapeHtml(keys.join(' × '))}); a table per process, a row per cell. The same figures are in comparison.csv; each cell's outputs are in cells/.</p>
${tables.join('\n')}
</body>
</html>
`
}
