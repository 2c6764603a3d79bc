/**
 * Time charts over virtual time (x in virtual seconds), drawn by uPlot
 * (/vendor/uPlot.iife.min.js). A chart keeps the last `window` points of keyed series (the
 * daemon's HISTORY_SECONDS); series may come and go (processes do), which rebuilds the plot
 * with the new set, the kept history padded with gaps.
 *
 * For tests and tools the chart's element carries data-points, data-first and data-last
 * (virtual s), data-series and data-filled (series with a value at the first point).
 */

import { AXIS, compact, fromZero, PALETTE } from './chart-style.js'

export { compact, PALETTE }

const { uPlot } = window
const HEIGHT = 190

/** No value at that point (null), or no point (undefined: uPlot asks before there is data). */
const none = (v) => v === null || v === undefined

export class TimeChart {
  /**
   * @param {HTMLElement} host
   * @param {{y: string, y2?: string, fmt?: (v: number) => string, fmt2?: (v: number) => string}} axes
   */
  constructor(host, axes) {
    this.host = host
    this.axes = axes
    this.xs = []
    this.window = 600
    /** @type {Map<string, {label: string, color: string, dash: boolean, right: boolean, data: (number|null)[]}>} */
    this.series = new Map()
    this.plot = null
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(host)
  }

  size() {
    return { width: Math.max(200, this.host.clientWidth), height: HEIGHT }
  }

  /**
   * Appends points at `xs` (virtual seconds, ascending); `series` maps keys to
   * `{label, color, dash?, right?, values}` with one value (or null) per x. Series missing
   * from it are dropped; new ones get gaps before.
   */
  append(xs, series) {
    const keys = Object.keys(series)
    const changed =
      keys.length !== this.series.size ||
      keys.some((k) => this.series.get(k)?.label !== series[k].label)
    for (const k of this.series.keys()) if (!(k in series)) this.series.delete(k)
    for (const k of keys) {
      const p = series[k]
      let s = this.series.get(k)
      if (s) Object.assign(s, { label: p.label, color: p.color })
      else {
        s = {
          label: p.label,
          color: p.color,
          dash: Boolean(p.dash),
          right: Boolean(p.right),
          data: this.xs.map(() => null),
        }
        this.series.set(k, s)
      }
      s.data.push(...p.values)
    }
    this.xs.push(...xs)
    const over = this.xs.length - this.window
    if (over > 0) {
      this.xs.splice(0, over)
      for (const s of this.series.values()) s.data.splice(0, over)
    }
    if (changed || !this.plot) {
      this.build()
      // A new plot draws (and resets its legend) in a microtask it queued: after that.
      queueMicrotask(() => this.showNewest())
    } else {
      this.plot.setData(this.data())
      this.showNewest()
    }
    this.mark()
  }

  /** Without the pointer over the plot, the legend shows the newest values. */
  showNewest() {
    if (this.xs.length > 0 && !(this.plot.cursor.left >= 0)) {
      this.plot.setLegend({ idx: this.xs.length - 1 })
    }
  }

  /** Replaces everything with `xs` and `series` (as append), keeping at most `window` points. */
  load(xs, series, window) {
    this.window = window
    this.xs = []
    this.series.clear()
    // Drawn anew: the old plot's series (another daemon's processes, say) are gone.
    this.plot?.destroy()
    this.plot = null
    this.append(xs, series)
  }

  /** The oldest x held, or Infinity. */
  get first() {
    return this.xs.length > 0 ? this.xs[0] : Number.POSITIVE_INFINITY
  }

  /** The newest x held, or -Infinity. */
  get last() {
    return this.xs.length > 0 ? this.xs[this.xs.length - 1] : Number.NEGATIVE_INFINITY
  }

  mark() {
    const d = this.host.dataset
    const all = [...this.series.values()]
    d.points = String(this.xs.length)
    d.first = this.xs.length > 0 ? String(this.xs[0]) : ''
    d.last = this.xs.length > 0 ? String(this.last) : ''
    d.series = String(all.length)
    d.filled = String(all.filter((s) => s.data[0] !== null && s.data[0] !== undefined).length)
  }

  data() {
    return [this.xs, ...[...this.series.values()].map((s) => s.data)]
  }

  build() {
    this.plot?.destroy()
    const { y, y2, fmt = compact, fmt2 = compact } = this.axes
    const axes = [
      {
        ...AXIS,
        label: 'virtual time',
        values: (_u, vals) => vals.map((v) => `${+v.toFixed(1)} s`),
      },
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
          { label: 'virtual s', value: (_u, v) => (none(v) ? '—' : `${v} s`) },
          ...[...this.series.values()].map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 1.75,
            dash: s.dash ? [5, 4] : undefined,
            scale: s.right ? 'y2' : 'y',
            spanGaps: false,
            points: { show: false },
            value: (_u, v) => (none(v) ? '—' : (s.right ? fmt2 : fmt)(v)),
          })),
        ],
      },
      this.data(),
      this.host,
    )
  }
}
