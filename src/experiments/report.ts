/**
 * report.html (docs/experiments.md §4): one self-contained page of a run, written beside
 * summary.json. Nothing in it loads from anywhere: the styles, uPlot (node_modules/uplot) and
 * the page's script (public/report/) are inlined, the data is a JSON block. It shows the summary table,
 * the dashboard's series as charts over virtual time, a heatmap per process (heatmap.ts), the
 * tunables and quirks at boot and at the end, the scenario as it ran, and the vmstat counters.
 *
 * Its parts are functions of summaries so that a comparison page can set several cells side by
 * side: summaryTable() and kthreadTable() take any number of labelled summaries, and
 * reportPage() wraps any body with the inlined styles and scripts.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import type { Scenario } from '../schemas/scenario.ts'
import { HEATMAP_PROCESSES, type Heatmaps } from './heatmap.ts'
import type { ProcessResult, Summary } from './summary.ts'

/** Rows of the series the charts get at most; longer runs keep every k-th row and the last. */
export const REPORT_SERIES_ROWS = 2000

/** One run's summary under the label a comparison gives it (a cell of a matrix). */
export interface LabelledSummary {
  readonly label: string
  readonly summary: Summary
}

/** A tunable's text at boot and at the end of the run. */
export interface Tunable {
  readonly path: string
  readonly at_boot: string
  readonly at_end: string
}

export interface ReportInput {
  readonly scenario: Scenario
  readonly summary: Summary
  readonly series: {
    readonly columns: readonly string[]
    readonly rows: readonly (number | null)[][]
  }
  readonly heatmaps: Heatmaps
  readonly tunables: readonly Tunable[]
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** JSON inside <script>: no `</script>` or `<!--` can end it early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replaceAll('<', '\\u003c')

const fixed = (v: number | null, digits: number, unit = '') =>
  v === null ? '—' : `${v.toFixed(digits)}${unit}`
const percent = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`)
const count = (v: number | null) => (v === null ? '—' : v.toLocaleString('en-US'))
const ms = (ns: number | null) => (ns === null ? '—' : `${(ns / 1e6).toFixed(1)} ms`)

/** The rows of the summary table: a label and the cell of one process. */
const PROCESS_ROWS: readonly (readonly [string, (p: ProcessResult) => string])[] = [
  ['pages', (p) => count(p.pages)],
  ['pages per node', (p) => p.pages_per_node.map(count).join(' / ')],
  ['started at', (p) => fixed(p.started_at_ms / 1000, 1, ' s')],
  ['exited at', (p) => (p.exited_at_ms === null ? '—' : fixed(p.exited_at_ms / 1000, 1, ' s'))],
  [
    'time to finish',
    (p) => (p.time_to_finish_ms === null ? '—' : fixed(p.time_to_finish_ms / 1000, 3, ' s')),
  ],
  ['accesses done', (p) => count(p.accesses_done)],
  ['top-tier hit ratio', (p) => percent(p.top_tier_hit_ratio)],
  ['mean latency', (p) => fixed(p.mean_latency_ns, 1, ' ns')],
  ['precision', (p) => percent(p.precision)],
  ['recall', (p) => percent(p.recall)],
  ['queued', (p) => count(p.queued)],
  ['promotions', (p) => count(p.promotions)],
  ['demotions', (p) => count(p.demotions)],
  ['hint faults', (p) => count(p.hint_faults)],
  ['NUMA scan CPU', (p) => ms(p.numa_scan_cpu_ns)],
  ['NUMA fault CPU', (p) => ms(p.numa_fault_cpu_ns)],
  ['stalled', (p) => ms(p.stalled_ns)],
  ['pte_scan_scale', (p) => String(p.pte_scan_scale)],
  ['target_node', (p) => String(p.target_node)],
]

/**
 * Per process of each cell, a column: the cells side by side, each labelled over its
 * processes' columns.
 */
export function summaryTable(cells: readonly LabelledSummary[]): string {
  const procs = cells.flatMap((c) => c.summary.processes.map((p) => ({ cell: c, p })))
  const head1 = cells
    .map(
      (c) =>
        `<th scope="colgroup" colspan="${Math.max(1, c.summary.processes.length)}">${escapeHtml(c.label)}</th>`,
    )
    .join('')
  const head2 = procs
    .map(({ p }) => `<th scope="col">${escapeHtml(p.comm)} <small>${p.pid}</small></th>`)
    .join('')
  const body = PROCESS_ROWS.map(
    ([label, cell]) =>
      `<tr><th scope="row">${label}</th>${procs.map(({ p }) => `<td>${escapeHtml(cell(p))}</td>`).join('')}</tr>`,
  ).join('\n')
  return (
    `<table class="summary"><thead><tr><th></th>${head1}</tr><tr><th></th>${head2}</tr></thead>\n` +
    `<tbody>\n${body}\n</tbody></table>`
  )
}

/** CPU time of each kernel thread (a row), in each cell (a column). */
export function kthreadTable(cells: readonly LabelledSummary[]): string {
  const names = [...new Set(cells.flatMap((c) => c.summary.kthreads.map((t) => t.name)))]
  const head = cells.map((c) => `<th scope="col">${escapeHtml(c.label)}</th>`).join('')
  const body = names.map((n) => {
    const tds = cells.map((c) => {
      const t = c.summary.kthreads.find((x) => x.name === n)
      return `<td>${t ? `${ms(t.cpu_ns)} <small>${t.state}</small>` : '—'}</td>`
    })
    return `<tr><th scope="row">${escapeHtml(n)}</th>${tds.join('')}</tr>`
  })
  return `<table class="summary"><thead><tr><th>CPU time</th>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`
}

/** A chart the page draws: which columns of the series, on which axis. */
export interface ChartSpec {
  readonly id: string
  readonly title: string
  readonly y: string
  readonly y2?: string
  /** How the axes' values read: a count, a share, MiB (of bytes). */
  readonly fmt?: 'count' | 'percent'
  readonly fmt2?: 'count' | 'mib'
  readonly series: readonly { column: string; label: string; dash?: boolean; right?: boolean }[]
}

/** The dashboard's charts (public/index.html) of the series' columns. */
export function chartSpecs(columns: readonly string[]): ChartSpec[] {
  const procs = [
    ...new Set(columns.filter((c) => c.endsWith(':top_pages')).map((c) => c.slice(0, -10))),
  ].slice(0, HEATMAP_PROCESSES)
  const perProcess = (column: string, dash: boolean, right: boolean) =>
    procs.map((p) => ({ column: `${p}:${column}`, label: `${p} ${column}`, dash, right }))
  const nodes = columns.filter((c) => /^node\d+_free_pages$/.test(c))
  const charts: ChartSpec[] = [
    {
      id: 'rates',
      title: 'Promotions, demotions, hint faults and migration failures per virtual second',
      y: 'pages/s',
      y2: 'failures/s',
      series: [
        { column: 'promotions_per_s', label: 'promotions' },
        { column: 'demotions_per_s', label: 'demotions' },
        { column: 'hint_faults_per_s', label: 'hint faults' },
        { column: 'promote_candidates_per_s', label: 'promote candidates' },
        { column: 'migrate_failures_per_s', label: 'migrate failures', dash: true, right: true },
      ],
    },
    {
      id: 'tiers',
      title: 'Pages per tier (solid: top tier, dashed: slow tier)',
      y: 'pages',
      series: [...perProcess('top_pages', false, false), ...perProcess('slow_pages', true, false)],
    },
    {
      id: 'quality',
      title: 'Top-tier hit ratio and mean access latency (dashed: latency)',
      y: 'hit ratio',
      y2: 'latency (ns)',
      fmt: 'percent',
      series: [
        ...perProcess('hit_ratio', false, false),
        ...perProcess('mean_latency_ns', true, true),
      ],
    },
    {
      id: 'scan',
      title: "kscand's scan_period and scan_size per mm (dashed: scan_size)",
      y: 'scan_period (ms)',
      y2: 'scan_size',
      fmt2: 'mib',
      series: [
        ...perProcess('scan_period_ms', false, false),
        ...perProcess('scan_size_bytes', true, true),
      ],
    },
    {
      id: 'free',
      title: 'Free pages per node',
      y: 'pages',
      series: nodes.map((c) => ({ column: c, label: c.replace('_free_pages', '') })),
    },
  ]
  // Only what the series has.
  return charts.map((c) => ({ ...c, series: c.series.filter((x) => columns.includes(x.column)) }))
}

/** The series as the charts get them: the charted columns, at most REPORT_SERIES_ROWS rows. */
export function chartData(
  series: ReportInput['series'],
  charts: readonly ChartSpec[],
): { columns: string[]; rows: (number | null)[][] } {
  const wanted = ['time_s', ...new Set(charts.flatMap((c) => c.series.map((s) => s.column)))]
  const index = wanted.map((c) => series.columns.indexOf(c))
  const n = series.rows.length
  const stride = Math.max(1, Math.ceil(n / REPORT_SERIES_ROWS))
  const rows: (number | null)[][] = []
  for (let r = 0; r < n; r++) {
    if (r % stride === 0 || r === n - 1)
      rows.push(index.map((i) => (i < 0 ? null : series.rows[r][i])))
  }
  return { columns: wanted, rows }
}

/** public/ at the package root: from src/experiments/ or dist/src/experiments/. */
function publicFile(name: string): string {
  for (const up of ['../../public', '../../../public']) {
    const path = join(fileURLToPath(new URL(up, import.meta.url)), name)
    if (existsSync(path)) return readFileSync(path, 'utf8')
  }
  throw new Error(`report: public/${name} not found`)
}

let assets: { css: string; js: string } | null = null

/** The inlined styles and scripts: uPlot's, the dashboard's chart style, then the page's. */
function inlined(): { css: string; js: string } {
  if (assets === null) {
    const require = createRequire(import.meta.url)
    const uplot = (f: string) => readFileSync(require.resolve(`uplot/dist/${f}`), 'utf8')
    assets = {
      css: `${uplot('uPlot.min.css')}\n${publicFile('report/report.css')}`,
      // The banner's address, without its scheme: the page names no URL at all.
      js: [
        uplot('uPlot.iife.min.js').replace('/*! https://', '/*! '),
        publicFile('js/chart-style.js').replaceAll('export ', ''),
        publicFile('report/report.js'),
      ].join('\n'),
    }
  }
  return assets
}

/** A whole page: `body` (HTML), `data` for the page's script, everything inlined. */
export function reportPage(title: string, body: string, data: unknown): string {
  const { css, js } = inlined()
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${css}
</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>
${js.replaceAll('</script', '<\\/script')}
</script>
</body>
</html>
`
}

function tunablesTable(tunables: readonly Tunable[]): string {
  const rows = tunables.map((t) => {
    const changed = t.at_boot !== t.at_end
    return (
      `<tr${changed ? ' class="changed"' : ''}><th scope="row"><code>${escapeHtml(t.path)}</code></th>` +
      `<td>${escapeHtml(t.at_boot)}</td><td>${escapeHtml(t.at_end)}</td></tr>`
    )
  })
  return `<table class="tunables"><thead><tr><th>file</th><th>at boot</th><th>at the end</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

/** report.html of one run. */
export function reportHtml(input: ReportInput): string {
  const { scenario, summary, heatmaps } = input
  const cell = { label: summary.scenario, summary }
  const charts = chartSpecs(input.series.columns)
  const vmstat = Object.entries(summary.vmstat)
    .map(([k, v]) => `<tr><th scope="row">${k}</th><td>${count(v)}</td></tr>`)
    .join('')
  const leftOut =
    heatmaps.left_out.length > 0
      ? `<p>No heatmap (the first ${HEATMAP_PROCESSES} processes have one): ${escapeHtml(heatmaps.left_out.join(', '))}</p>`
      : ''
  const body = `<header>
<h1>kscand-sim run: ${escapeHtml(summary.scenario)}</h1>
<p>seed ${summary.seed} · ${fixed(summary.virtual_ms / 1000, 1, ' s')} virtual · ended: ${summary.ended}${
    scenario.description ? ` · ${escapeHtml(scenario.description)}` : ''
  }</p>
<nav><a href="#summary">summary</a> · <a href="#charts">series</a> · <a href="#heatmaps">heatmaps</a> · <a href="#tunables">tunables and quirks</a> · <a href="#scenario">scenario</a> · <a href="#vmstat">vmstat</a></nav>
</header>
<section id="summary"><h2>Summary</h2>
${summaryTable([cell])}
${kthreadTable([cell])}
</section>
<section id="charts"><h2>Series <small>every ${scenario.record.series_interval_ms} ms of virtual time</small></h2>
${charts.map((c) => `<figure class="chart-box"><figcaption>${escapeHtml(c.title)}</figcaption><div class="chart" data-chart="${c.id}"></div></figure>`).join('\n')}
</section>
<section id="heatmaps"><h2>Heatmaps <small>address space (rows, lowest address on top) over virtual time (columns)</small></h2>
<p>Per process: the workload's true access rate (mean accesses per second of a page, log scale),
the share of the pages kscand's walks visited whose Accessed bit they found set (grey: not visited),
and the share of the pages on the top tier.</p>
${leftOut}
<div id="heatmap-list"></div>
</section>
<section id="tunables"><h2>Tunables and quirks <small>changed ones highlighted</small></h2>
${tunablesTable(input.tunables)}
</section>
<section id="scenario"><h2>Scenario <small>as it ran: defaults filled in, machine_file inlined; save as a .yaml file to run it again</small></h2>
<pre class="scenario">${escapeHtml(stringify(scenario))}</pre>
</section>
<section id="vmstat"><h2>vmstat at the end</h2>
<details><summary>${Object.keys(summary.vmstat).length} counters</summary><table class="vmstat"><tbody>${vmstat}</tbody></table></details>
</section>`
  return reportPage(`kscand-sim report: ${summary.scenario}`, body, {
    charts,
    series: chartData(input.series, charts),
    heatmaps,
  })
}
