/**
 * Time charts over virtual time, drawn by uPlot (/vendor/uPlot.iife.min.js). A chart keeps
 * the last WINDOW points of keyed series; series may come and go (processes do), which
 * rebuilds the plot with the new set, the kept history padded with gaps.
 */

const { uPlot } = window
const WINDOW = 600
const HEIGHT = 190

/** Process colours, by position in the process list. */
export const PALETTE = ['#4cc9f0', '#f77f00', '#b388eb', '#80ed99', '#f15bb5', '#fee440', '#00bbf9']

const AXIS = {
  stroke: '#8b98a9',
  grid: { stroke: 'rgba(139, 152, 169, 0.12)', width: 1 },
  ticks: { stroke: 'rgba(139, 152, 169, 0.25)', width: 1 },
  font: '11px system-ui, sans-serif',
  labelFont: '11px system-ui, sans-serif',
}

/** 1234567 → 1.23M */
export function compact(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—'
  const a = Math.abs(v)
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`
  return `${+v.toPrecision(4)}`
}

/** Every axis starts at 0, with a little room above the highest value. */
const fromZero = (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1]

export class TimeChart {
  /**
   * @param {HTMLElement} host
   * @param {{y: string, y2?: string, fmt?: (v: number) => string, fmt2?: (v: number) => string}} axes
   */
  constructor(host, axes) {
    this.host = host
    this.axes = axes
    this.xs = []
    /** @type {Map<string, {label: string, color: string, dash: boolean, right: boolean, data: (number|null)[]}>} */
    this.series = new Map()
    this.plot = null
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(host)
  }

  size() {
    return { width: Math.max(200, this.host.clientWidth), height: HEIGHT }
  }

  /**
   * Appends one point per series at x (virtual seconds); `points` maps series keys to
   * `{label, color, dash?, right?, value}`. Series missing from `points` are dropped.
   */
  push(x, points) {
    const keys = Object.keys(points)
    const changed =
      keys.length !== this.series.size ||
      keys.some((k) => this.series.get(k)?.label !== points[k].label)
    for (const k of this.series.keys()) if (!(k in points)) this.series.delete(k)
    for (const k of keys) {
      const p = points[k]
      const s = this.series.get(k)
      if (s) Object.assign(s, { label: p.label, color: p.color })
      else
        this.series.set(k, {
          label: p.label,
          color: p.color,
          dash: Boolean(p.dash),
          right: Boolean(p.right),
          data: this.xs.map(() => null),
        })
      this.series.get(k).data.push(p.value)
    }
    this.xs.push(x)
    if (this.xs.length > WINDOW) {
      this.xs.shift()
      for (const s of this.series.values()) s.data.shift()
    }
    if (changed || !this.plot) this.build()
    else this.plot.setData(this.data())
    // Without the pointer over the plot, the legend shows the newest values.
    if (!(this.plot.cursor.left >= 0)) this.plot.setLegend({ idx: this.xs.length - 1 })
  }

  clear() {
    this.xs = []
    this.series.clear()
    this.build()
  }

  data() {
    return [this.xs, ...[...this.series.values()].map((s) => s.data)]
  }

  build() {
    this.plot?.destroy()
    const { y, y2, fmt = compact, fmt2 = compact } = this.axes
    const axes = [
      { ...AXIS, values: (_u, vals) => vals.map((v) => `${+v.toFixed(1)}s`) },
      { ...AXIS, label: y, size: 54, values: (_u, vals) => vals.map(fmt) },
    ]
    if (y2) {
      axes.push({
        ...AXIS,
        label: y2,
        scale: 'y2',
        side: 1,
        size: 54,
        grid: { show: false },
        values: (_u, vals) => vals.map(fmt2),
      })
    }
    this.plot = new uPlot(
      {
        ...this.size(),
        scales: { x: { time: false }, y: { range: fromZero }, y2: { range: fromZero } },
        axes,
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
        series: [
          { label: 'virtual s', value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)}s`) },
          ...[...this.series.values()].map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 1.75,
            dash: s.dash ? [5, 4] : undefined,
            scale: s.right ? 'y2' : 'y',
            spanGaps: false,
            points: { show: false },
            value: (_u, v) => (v === null ? '—' : (s.right ? fmt2 : fmt)(v)),
          })),
        ],
      },
      this.data(),
      this.host,
    )
  }
}
