/**
 * What the dashboard's charts (charts.js) and report.html's (public/report/report.js) share:
 * colours, axis style, the number format and the y range. report.ts inlines this file before
 * report.js as a classic script, with its `export`s dropped, so keep it free of imports.
 */

/** Process colours, by position in the process list. */
export const PALETTE = ['#4cc9f0', '#f77f00', '#b388eb', '#80ed99', '#f15bb5', '#fee440', '#00bbf9']

export const AXIS = {
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
export const fromZero = (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1]
