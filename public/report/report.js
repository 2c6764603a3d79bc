/**
 * The script of report.html (src/experiments/report.ts inlines it after uPlot and
 * public/js/chart-style.js, whose PALETTE, AXIS, compact and fromZero it uses): draws the
 * charts of the series and the heatmaps from the page's JSON block. It fetches nothing, so the
 * page works from disk with no network. Drawn charts are in window.reportCharts (uPlot
 * instances) and each drawn heatmap canvas carries data-drawn="1", for the browser test.
 */
;(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent)
  const ABSENT = 255
  const NOT_SCANNED = 254
  const LEVELS = 250

  const FORMATS = {
    count: compact,
    percent: (v) => (v === null ? '—' : `${+(v * 100).toFixed(1)}%`),
    mib: (v) => (v === null ? '—' : `${compact(v / 1048576)} MiB`),
  }

  // ---- charts ------------------------------------------------------------------------------

  const column = (name) => {
    const i = data.series.columns.indexOf(name)
    return data.series.rows.map((r) => (i < 0 ? null : r[i]))
  }
  const xs = column('time_s')
  const colors = new Map()
  const colorOf = (label) => {
    const key = label.split(' ')[0]
    if (!colors.has(key)) colors.set(key, PALETTE[colors.size % PALETTE.length])
    return colors.get(key)
  }

  window.reportCharts = []
  for (const spec of data.charts) {
    const host = document.querySelector(`[data-chart="${spec.id}"]`)
    const fmt = FORMATS[spec.fmt ?? 'count']
    const fmt2 = FORMATS[spec.fmt2 ?? 'count']
    const axes = [
      { ...AXIS, values: (_u, vals) => vals.map((v) => `${+v.toFixed(1)}s`) },
      { ...AXIS, label: spec.y, size: 58, values: (_u, vals) => vals.map(fmt) },
    ]
    if (spec.y2) {
      axes.push({
        ...AXIS,
        label: spec.y2,
        scale: 'y2',
        side: 1,
        size: 58,
        grid: { show: false },
        values: (_u, vals) => vals.map(fmt2),
      })
    }
    const plot = new uPlot(
      {
        width: Math.max(300, host.clientWidth),
        height: 220,
        scales: { x: { time: false }, y: { range: fromZero }, y2: { range: fromZero } },
        axes,
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: 'virtual s', value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)}s`) },
          ...spec.series.map((s) => ({
            label: s.label,
            stroke: s.column.startsWith('promotions')
              ? PALETTE[0]
              : s.column.includes(':')
                ? colorOf(s.label)
                : PALETTE[(spec.series.indexOf(s) + 1) % PALETTE.length],
            width: 1.75,
            dash: s.dash ? [5, 4] : undefined,
            scale: s.right ? 'y2' : 'y',
            spanGaps: false,
            points: { show: false },
            value: (_u, v) => (s.right ? fmt2 : fmt)(v),
          })),
        ],
      },
      [xs, ...spec.series.map((s) => column(s.column))],
      host,
    )
    window.reportCharts.push(plot)
  }
  window.addEventListener('resize', () => {
    for (const p of window.reportCharts)
      p.setSize({ width: Math.max(300, p.root.parentElement.clientWidth), height: 220 })
  })

  // ---- heatmaps ----------------------------------------------------------------------------

  /** Viridis, by a few stops. */
  const STOPS = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ]
  const colormap = (t) => {
    const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1)
    const i = Math.min(STOPS.length - 2, Math.floor(x))
    const f = x - i
    return STOPS[i].map((c, k) => Math.round(c + (STOPS[i + 1][k] - c) * f))
  }
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
  const hm = data.heatmaps
  const cols = hm.ends_s.length
  /** Each panel's size in pixels, whatever its rows and columns. */
  const WIDTH = 440
  const HEIGHT = 256

  const rateText = (p, v) => {
    if (v === 0) return '0 /s'
    const [lo, hi] = p.rate_log10
    const l = hi > lo ? lo + ((v - 1) / (LEVELS - 1)) * (hi - lo) : hi
    return `${compact(10 ** l)} /s a page`
  }
  const PANELS = [
    { key: 'rate', title: 'true access rate', text: rateText, scale: (p) => p.rate_log10 },
    {
      key: 'verdicts',
      title: "kscand's verdicts: found accessed",
      text: (_p, v) =>
        v === NOT_SCANNED ? 'not visited' : `${((v / LEVELS) * 100).toFixed(0)}% found accessed`,
    },
    {
      key: 'placement',
      title: 'placement: on the top tier',
      text: (_p, v) => `${((v / LEVELS) * 100).toFixed(0)}% on the top tier`,
    },
  ]
  const fill = (v) =>
    v === ABSENT ? [13, 17, 23] : v === NOT_SCANNED ? [70, 76, 86] : colormap(v / LEVELS)
  const rateFill = (v) =>
    v === ABSENT ? [13, 17, 23] : v === 0 ? [30, 30, 40] : colormap((v - 1) / (LEVELS - 1))

  const list = document.getElementById('heatmap-list')
  const readout = document.createElement('div')
  readout.className = 'readout'
  if (cols === 0) list.textContent = 'The run recorded no interval: nothing to show.'
  for (const p of cols === 0 ? [] : hm.processes) {
    const rows = p.addresses.length
    const fig = document.createElement('figure')
    fig.className = 'heatmap'
    fig.dataset.pid = String(p.pid)
    const cap = document.createElement('figcaption')
    cap.textContent = `${p.comm} (pid ${p.pid}): ${p.pages.toLocaleString('en-US')} pages, ${p.row_pages.toLocaleString('en-US')} a row, ${p.addresses[0]} … top`
    fig.append(cap)
    const panels = document.createElement('div')
    panels.className = 'panels'
    for (const panel of PANELS) {
      const values = bytes(p[panel.key])
      const box = document.createElement('div')
      box.className = 'panel'
      const title = document.createElement('div')
      title.className = 'panel-title'
      title.textContent =
        panel.key === 'rate' && p.rate_log10
          ? `${panel.title} (${compact(10 ** p.rate_log10[0])} … ${compact(10 ** p.rate_log10[1])} /s)`
          : `${panel.title} (0 … 100%)`
      const canvas = document.createElement('canvas')
      canvas.width = WIDTH
      canvas.height = HEIGHT
      canvas.dataset.panel = panel.key
      const g = canvas.getContext('2d')
      const img = g.createImageData(cols, rows)
      const color = panel.key === 'rate' ? rateFill : fill
      for (let i = 0; i < rows * cols; i++) {
        const [r, gr, b] = color(values[i])
        img.data.set([r, gr, b, 255], i * 4)
      }
      const small = document.createElement('canvas')
      small.width = cols
      small.height = rows
      small.getContext('2d').putImageData(img, 0, 0)
      g.imageSmoothingEnabled = false
      g.drawImage(small, 0, 0, canvas.width, canvas.height)
      canvas.dataset.drawn = '1'
      canvas.addEventListener('mousemove', (e) => {
        const c = Math.min(cols - 1, Math.floor((e.offsetX / WIDTH) * cols))
        const r = Math.min(rows - 1, Math.floor((e.offsetY / HEIGHT) * rows))
        const v = values[r * cols + c]
        const from = c === 0 ? hm.start_s : hm.ends_s[c - 1]
        readout.textContent = `${p.comm} ${p.addresses[r]}, ${from.toFixed(1)}–${hm.ends_s[c].toFixed(1)} s: ${
          v === ABSENT ? 'no process' : panel.text(p, v)
        }`
        box.append(readout)
      })
      const axis = document.createElement('div')
      axis.className = 'panel-axis'
      axis.textContent =
        cols > 0
          ? `${hm.start_s.toFixed(0)} s … ${hm.ends_s[cols - 1].toFixed(0)} s`
          : 'no interval recorded'
      box.append(title, canvas, axis)
      panels.append(box)
    }
    fig.append(panels)
    list.append(fig)
  }
})()
