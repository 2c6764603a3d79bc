/**
 * deploy/ with real parts: Debian's Prometheus, configured from deploy/prometheus/prometheus.yml
 * (target and intervals changed: 1 s), scrapes a live server at SPEED=10 and evaluates the
 * rules; then every recording rule and every expression of the Grafana dashboard
 * (deploy/grafana/kscand-sim.json, read here so new panels are covered) must return data
 * through Prometheus's HTTP API, and every rule must evaluate without error.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import {
  NO_SHEDDING,
  ROOT,
  type ServerProcess,
  smallConfigFile,
  startServer,
  tempDir,
  within,
} from '../helpers/process.ts'

const PROMETHEUS = join(ROOT, 'deploy/prometheus')
const DASHBOARD = join(ROOT, 'deploy/grafana/kscand-sim.json')
/** How long Prometheus may take to start, and the rules to have data. */
const DEADLINE_MS = 40_000

interface Panel {
  readonly title: string
  readonly targets?: readonly { readonly expr: string }[]
}

/** Every panel's expressions, with the dashboard's variables set to the test's job. */
function panelExpressions(instance: string): { title: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] }
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      title: p.title,
      expr: t.expr.replaceAll('$job', 'kscand-sim').replaceAll('$instance', instance),
    })),
  )
}

function recordingRules(): string[] {
  const file = parse(readFileSync(join(PROMETHEUS, 'kscand-sim.rules.yml'), 'utf8')) as {
    groups: { rules: { record?: string }[] }[]
  }
  return file.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])))
}

/** A port nobody listens on now (Prometheus cannot report the port of :0). */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as { port: number }
  s.close()
  await once(s, 'close')
  return port
}

let tmp: ReturnType<typeof tempDir>
let server: ServerProcess | undefined
let prometheus: ChildProcess | undefined
let prometheusLog = ''
let api = ''

async function query(expr: string): Promise<unknown[]> {
  const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } }
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`)
  return body.data?.result ?? []
}

/** Polls `check` (every 500 ms, up to the deadline) until it gives an empty list of misses. */
async function eventually(check: () => Promise<string[]>): Promise<string[]> {
  const end = Date.now() + DEADLINE_MS
  for (;;) {
    const misses = await check().catch((e: Error) => [e.message])
    if (misses.length === 0 || Date.now() > end) return misses
    await new Promise((r) => setTimeout(r, 500))
  }
}

beforeAll(async () => {
  if (spawnSync('sh', ['-c', 'command -v prometheus']).status !== 0) {
    throw new Error('prometheus is missing: npm test installs it (scripts/test-tools.sh)')
  }
  tmp = tempDir('kscand-sim-prometheus-')
  server = await startServer({
    CONFIG_FILE: smallConfigFile(tmp.dir),
    SPEED: '10',
    ...NO_SHEDDING,
  })
  const target = `127.0.0.1:${server.port}`
  const config = parse(readFileSync(join(PROMETHEUS, 'prometheus.yml'), 'utf8'))
  config.global = { scrape_interval: '1s', evaluation_interval: '1s' }
  config.rule_files = config.rule_files.map((f: string) => join(PROMETHEUS, f))
  config.scrape_configs[0].static_configs = [{ targets: [target] }]
  writeFileSync(join(tmp.dir, 'prometheus.yml'), stringify(config))
  const port = await freePort()
  api = `http://127.0.0.1:${port}`
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(tmp.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(tmp.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  prometheus.stderr?.on('data', (d) => {
    prometheusLog += d
  })
  const ready = await eventually(async () => {
    if (prometheus?.exitCode !== null) return [`prometheus exited: ${prometheusLog}`]
    const r = await fetch(`${api}/-/ready`)
    return r.ok ? [] : [`not ready: ${r.status}`]
  })
  expect(ready, prometheusLog).toEqual([])
}, DEADLINE_MS + 30_000)

afterAll(async () => {
  for (const child of [prometheus, server?.child]) {
    if (!child || child.exitCode !== null || child.signalCode !== null) continue
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await within(10_000, exited, 'a child to stop').catch(() => child.kill('SIGKILL'))
  }
  tmp?.cleanup()
})

describe('Prometheus scraping a live server', () => {
  it(
    'gets every recording rule and every Grafana panel expression with data',
    async () => {
      const target = `127.0.0.1:${server?.port}`
      const exprs = [
        ...recordingRules().map((r) => ({ title: 'recording rule', expr: r })),
        ...panelExpressions(target),
      ]
      expect(exprs.length).toBeGreaterThan(15)
      const misses = await eventually(async () => {
        const empty: string[] = []
        for (const { title, expr } of exprs) {
          if ((await query(expr)).length === 0) empty.push(`${title}: ${expr}`)
        }
        return empty
      })
      expect(misses, prometheusLog).toEqual([])
      // The simulator's vmstat as node_exporter names it, per wall second.
      expect(await query('rate(node_vmstat_pgpromote_success{job="kscand-sim"}[1m])')).toHaveLength(
        1,
      )
    },
    DEADLINE_MS + 10_000,
  )

  it('evaluates every rule without error and scrapes the target healthy', async () => {
    const r = await fetch(`${api}/api/v1/rules`)
    const body = (await r.json()) as {
      data: { groups: { rules: { name: string; health: string; last_error?: string }[] }[] }
    }
    const rules = body.data.groups.flatMap((g) => g.rules)
    expect(rules.length).toBeGreaterThan(10)
    expect(rules.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.last_error}`)).toEqual(
      [],
    )
    const up = (await query('up{job="kscand-sim"}')) as { value: [number, string] }[]
    expect(up.map((s) => s.value[1])).toEqual(['1'])
  })
})
