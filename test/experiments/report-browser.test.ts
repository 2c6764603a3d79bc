/**
 * report.html in Debian's Chromium, opened from disk (file://) with the network off: the page
 * makes no request but for itself, logs no error, draws every chart (a uPlot with the series'
 * points, and ink on its canvas) and a heatmap of three drawn panels per process. The run is a
 * small machine's hot set promoted from CXL, with a second process spawned half way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario } from '../../src/experiments/load.ts'
import { runInto } from '../../src/experiments/run.ts'
import { MiB } from '../../src/kernel/constants.ts'
import { type Browser, offline, openBrowser } from '../helpers/browser.ts'
import { SMALL } from '../helpers/kernel.ts'

const SCENARIO = `
name: browser
machine:
  topology: ${JSON.stringify(SMALL)}
  processes:
    - comm: gups
      size: ${32 * MiB}
      policy: { mode: bind, nodes: [2] }
      workload: { pattern: hotset, hot_fraction: 0.25 }
timeline:
  - at_ms: 4000
    do: spawn
    spec: { comm: zipf, size: ${16 * MiB}, workload: { pattern: zipf, theta: 0.99 } }
duration_ms: 8000
record: { series_interval_ms: 500 }
`

let browser: Browser
let dir: string
let url: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kscand-sim-report-browser-'))
  writeFileSync(join(dir, 'browser.yaml'), SCENARIO)
  runInto(loadScenario(join(dir, 'browser.yaml')), join(dir, 'out'))
  url = pathToFileURL(join(dir, 'out/report.html')).href
  browser = await openBrowser()
  await offline(browser.page)
  await browser.page.goto(url)
  await browser.page.locator('canvas[data-drawn="1"]').first().waitFor({ timeout: 20_000 })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

interface ChartState {
  id: string
  points: number[]
  inked: boolean
}

describe('report.html from disk in Chromium, no network', () => {
  it('requests nothing but itself and logs no error', () => {
    expect(browser.requests).toEqual([`GET ${url}`])
    expect(browser.errors).toEqual([])
  })

  it('draws every chart: a uPlot per chart with the series, ink on its canvas', async () => {
    const charts =
      (await browser.page.evaluate(`[...document.querySelectorAll('[data-chart]')].map((host) => {
      const plot = window.reportCharts.find((u) => host.contains(u.root))
      const canvas = host.querySelector('canvas')
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
      let inked = false
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) { inked = true; break }
      return {
        id: host.dataset.chart,
        points: plot ? plot.data.slice(1).map((s) => s.filter((v) => v !== null).length) : [],
        inked,
      }
    })`)) as ChartState[]
    expect(charts.map((c) => c.id)).toEqual(['rates', 'tiers', 'quality', 'scan', 'free'])
    for (const c of charts) {
      expect(c.inked, c.id).toBe(true)
      expect(c.points.length, c.id).toBeGreaterThan(0)
      // 17 samples, 0 … 8 s; a rate has none at 0 s, a late process none before 4 s.
      expect(Math.max(...c.points), c.id).toBeGreaterThanOrEqual(16)
    }
  })

  it('shows a heatmap of three drawn panels per process', async () => {
    const heatmaps =
      (await browser.page.evaluate(`[...document.querySelectorAll('figure.heatmap')].map((f) => ({
      pid: f.dataset.pid,
      caption: f.querySelector('figcaption').textContent,
      panels: [...f.querySelectorAll('canvas')].map((c) => {
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        const colours = new Set()
        for (let i = 0; i < px.length; i += 4 * 97) colours.add(px[i] * 65536 + px[i + 1] * 256 + px[i + 2])
        return { panel: c.dataset.panel, drawn: c.dataset.drawn, colours: colours.size }
      }),
    }))`)) as {
        pid: string
        caption: string
        panels: { panel: string; drawn: string; colours: number }[]
      }[]
    expect(heatmaps.map((h) => h.pid)).toEqual(['1000', '1001'])
    expect(heatmaps[0].caption).toMatch(/^gups \(pid 1000\): 8,192 pages/)
    for (const h of heatmaps) {
      expect(h.panels.map((p) => p.panel)).toEqual(['rate', 'verdicts', 'placement'])
      for (const p of h.panels) {
        expect(p.drawn).toBe('1')
        // More than one colour: rows or columns differ (the hot set, promotion, the spawn).
        expect(p.colours, `${h.pid} ${p.panel}`).toBeGreaterThan(1)
      }
    }
  })
})
