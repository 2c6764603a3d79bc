/**
 * deploy/grafana: the dashboard is importable and provisionable as it is, and every panel
 * follows the dashboard's variables (datasource, job, instance), so it shows the chosen
 * simulator whatever the Prometheus it is pointed at. That each expression returns data is
 * prometheus-live.test.ts's part.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT } from '../helpers/process.ts'

const DIR = join(ROOT, 'deploy/grafana')
/** Grafana's reference to the dashboard's datasource variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's syntax, not a template string
const DATASOURCE = '${datasource}'

interface Target {
  readonly expr: string
  readonly datasource: { readonly uid: string }
}
interface Panel {
  readonly id: number
  readonly title: string
  readonly datasource: { readonly type: string; readonly uid: string }
  readonly gridPos: {
    readonly x: number
    readonly y: number
    readonly w: number
    readonly h: number
  }
  readonly targets: readonly Target[]
}
const dashboard = JSON.parse(readFileSync(join(DIR, 'kscand-sim.json'), 'utf8')) as {
  id: unknown
  uid: string
  panels: Panel[]
  templating: { list: { name: string }[] }
}

describe('deploy/grafana/kscand-sim.json', () => {
  it('imports as a new dashboard with a fixed uid and the three variables', () => {
    expect(dashboard.id).toBeNull()
    expect(dashboard.uid).toBe('kscand-sim')
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'instance'])
  })

  it('has panels that follow the variables', () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10)
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length)
    for (const p of dashboard.panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: DATASOURCE })
      expect(p.targets.length, p.title).toBeGreaterThan(0)
      for (const t of p.targets) {
        expect(t.datasource.uid, p.title).toBe(DATASOURCE)
        expect(t.expr, p.title).toContain('job="$job",instance=~"$instance"')
      }
    }
  })

  it('lays the panels out without overlap, within the 24 columns', () => {
    const cells = new Set<string>()
    for (const { title, gridPos: g } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24)
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false)
          cells.add(`${x},${y}`)
        }
      }
    }
  })

  it('has provisioning files for the dashboard and a Prometheus datasource', () => {
    const read = (f: string) => parse(readFileSync(join(DIR, 'provisioning', f), 'utf8'))
    const dashboards = read('dashboards/kscand-sim.yml')
    expect(dashboards.apiVersion).toBe(1)
    expect(dashboards.providers[0]).toMatchObject({
      type: 'file',
      options: { path: expect.any(String) },
    })
    const datasources = read('datasources/kscand-sim.yml')
    expect(datasources.datasources[0]).toMatchObject({
      type: 'prometheus',
      url: expect.any(String),
    })
  })
})
