/**
 * /metrics on a live server: promtool accepts the exposition, and the figures are the
 * kernel's own (one source of truth).
 */
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { metricsTable, README_PATH, section } from '../../scripts/ops-doc.ts'
import { PAGE_SIZE } from '../../src/kernel/constants.ts'
import { VMSTAT_NAMES } from '../../src/kernel/vmstat.ts'
import { tunableSeries } from '../../src/metrics/kernel.ts'
import { sysfsTable } from '../../src/sysfs/table.ts'
import { until } from '../helpers/events.ts'
import { buildOps, type OpsApp, tempDir } from '../helpers/process.ts'

const P = 'kscand_sim_'

/** `name{labels}` → value, for every sample line. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

/** A raw websocket subscriber that counts the batches, events and lost events it is sent. */
function subscriber(base: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/events`)
  const c = { ws, batches: 0, events: 0, lost: 0, seq: -1, opened: once(ws, 'open') }
  ws.on('message', (data) => {
    const m = JSON.parse(String(data))
    if (m.type === 'snapshot') c.seq = m.seq
    if (m.type === 'batch') {
      c.batches++
      c.events += m.events.length
      c.seq = m.to_seq
    }
    if (m.type === 'lost') {
      c.lost += m.count
      c.seq = m.to_seq
    }
  })
  return c
}

let a: OpsApp
let subscribers: ReturnType<typeof subscriber>[]
let text: string
let tmp: ReturnType<typeof tempDir>

beforeAll(async () => {
  tmp = tempDir()
  a = await buildOps({ stateFile: join(tmp.dir, 'state.json') })
  // Enough virtual time for scans, hot pages and promotions: 20 s in all.
  await a.runner.step(19_800)
  const base = await a.server.listen({ host: '127.0.0.1', port: 0 })
  // Two subscribers, sent a little more of it; one leaves once it has had everything.
  subscribers = [subscriber(base), subscriber(base)]
  await Promise.all(subscribers.map((c) => c.opened))
  await a.runner.step(200)
  const last = a.events.ring.last
  await until(() => subscribers.every((c) => c.seq === last), 'the subscribers to have it all')
  subscribers[0].ws.close()
  await until(() => a.events.members.size === 1, 'the server to see the close')
  await fetch(`${base}/sys/kernel/mm/kscand/scan_sleep_ms`, { method: 'PUT', body: '40' })
  await fetch(`${base}/no/such/file`)
  await fetch(`${base}/processes`)
  const r = await fetch(`${base}/metrics`)
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  text = await r.text()
})

afterAll(async () => {
  for (const c of subscribers ?? []) c.ws.terminate()
  await a?.close()
  tmp?.cleanup()
})

describe('/metrics', () => {
  it('passes promtool check metrics', () => {
    const which = spawnSync('sh', ['-c', 'command -v promtool'])
    if (which.status !== 0) {
      throw new Error('promtool is missing: npm test installs it (scripts/test-tools.sh)')
    }
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it("has every vmstat counter under node_exporter's name and type, with the kernel value", () => {
    const s = samples(text)
    for (const name of VMSTAT_NAMES) {
      expect(s.get(`node_vmstat_${name}`), name).toBe(a.kernel.vmstat.get(name))
      expect(text).toContain(`# TYPE node_vmstat_${name} untyped\n`)
      expect(text).toContain(`# HELP node_vmstat_${name} /proc/vmstat information field ${name}.\n`)
    }
    expect(s.get('node_vmstat_nr_kscand_mm_scans')).toBeGreaterThan(0)
    expect(s.get('node_vmstat_pgpromote_success')).toBeGreaterThan(0)
  })

  it('has every tunable as a gauge, in base units, ids as labels', () => {
    const s = samples(text)
    const files = sysfsTable(a.kernel).filter((f) => f.write)
    expect(files.length).toBeGreaterThanOrEqual(10)
    for (const f of files) {
      const series = tunableSeries(f.path)
      const v = f.json()
      const labels = Object.entries(series.labels(v)).map(([l, x]) => `${l}="${x}"`)
      const key = labels.length ? `${series.name}{${labels.join(',')}}` : series.name
      expect(s.get(key), f.path).toBe(series.value(v))
    }
    expect(s.get(`${P}tunable_scan_sleep_seconds`)).toBe(0.04)
    expect(s.get(`${P}tunable_mm_scan_period_seconds`)).toBe(2)
    expect(s.get(`${P}tunable_demotion_enabled`)).toBe(1)
    expect(s.get(`${P}tunable_target_node_info{node="0"}`)).toBe(1)
    expect(s.get(`${P}quirk{group="kmigrated",name="kmigrated_sticky_slot"}`)).toBe(1)
    expect(s.get(`${P}tunable_numa_balancing_scan_size_bytes`)).toBe(256 * 2 ** 20)
    expect(s.get(`${P}tunable_numa_balancing_scan_delay_seconds`)).toBe(1)
  })

  it('has threads, pages per node and tier, processes and their quality', () => {
    const s = samples(text)
    for (const t of a.kernel.threads()) {
      expect(s.get(`${P}thread_state{thread="${t.comm}",state="${t.state}"}`)).toBe(1)
      expect(s.get(`${P}thread_cycles_total{thread="${t.comm}"}`)).toBe(t.cycles)
    }
    for (const n of a.kernel.machine.nodes) {
      const at = `node="${n.id}",tier="${n.memtier}"`
      expect(s.get(`${P}node_memory_bytes{${at},state="free"}`)).toBe(n.free * PAGE_SIZE)
      expect(s.get(`${P}node_memory_bytes{${at},state="used"}`)).toBe(
        (n.pages - n.free) * PAGE_SIZE,
      )
    }
    const tiers = a.kernel.machine.memoryTiers()
    expect(tiers).toHaveLength(2)
    for (const tier of tiers) {
      const nodes = tier.nodes.map((id) => a.kernel.machine.nodes[id])
      const free = nodes.reduce((sum, n) => sum + n.free, 0)
      const used = nodes.reduce((sum, n) => sum + n.pages - n.free, 0)
      expect(s.get(`${P}tier_memory_bytes{tier="${tier.id}",state="free"}`)).toBe(free * PAGE_SIZE)
      expect(s.get(`${P}tier_memory_bytes{tier="${tier.id}",state="used"}`)).toBe(used * PAGE_SIZE)
    }
    const p = a.kernel.processList()[0]
    const stats = a.kernel.processStats(p.pid)
    const at = `pid="${p.pid}",comm="${p.comm}"`
    expect(s.get(`${P}process_promoted_pages_total{${at}}`)).toBe(stats.promoted)
    expect(stats.promoted).toBeGreaterThan(0)
    expect(s.get(`${P}process_toptier_hit_ratio{${at}}`)).toBe(stats.top_tier_hit_ratio)
    expect(s.get(`${P}process_precision_ratio{${at}}`)).toBe(stats.precision)
    expect(s.get(`${P}process_mean_latency_seconds{${at}}`)).toBeCloseTo(
      (stats.mean_latency_ns as number) / 1e9,
      15,
    )
    stats.pages_per_node.forEach((pages, node) => {
      const tier = a.kernel.machine.nodes[node].memtier
      const where = `${at},node="${node}",tier="${tier}"`
      expect(s.get(`${P}process_memory_bytes{${where}}`)).toBe(pages * PAGE_SIZE)
    })
    expect(s.get(`${P}process_target_node_info{${at},node="${stats.target_node}"}`)).toBe(1)
    expect(stats.migration).not.toBeNull()
    expect(s.get(`${P}process_migration_pending_pages{${at}}`)).toBe(stats.migration?.pending)
    expect(s.get(`${P}virtual_seconds_total`)).toBe(20)
    expect(s.get(`${P}build_info{version="0.1.0",node_version="${process.version}"}`)).toBe(1)
  })

  it('is listed in the README', () => {
    const readme = readFileSync(README_PATH, 'utf8')
    expect(section(readme, 'metrics'), 'README.md is stale: run npm run docs').toBe(metricsTable())
    for (const family of text.matchAll(/^# TYPE ((?:kscand_sim|node_vmstat)_\w+) /gm)) {
      expect(readme).toContain(`| \`${family[1]}\` |`)
    }
  })

  it('has request metrics by route template, event-stream figures and process metrics', () => {
    const s = samples(text)
    const route = '/sys/kernel/mm/kscand/scan_sleep_ms'
    expect(s.get(`${P}http_requests_total{method="PUT",route="${route}",status_code="200"}`)).toBe(
      1,
    )
    expect(s.get(`${P}http_requests_total{method="GET",route="unmatched",status_code="404"}`)).toBe(
      1,
    )
    // What the subscribers received, as the hub counted it.
    const sum = (pick: (c: (typeof subscribers)[number]) => number) =>
      subscribers.reduce((n, c) => n + pick(c), 0)
    expect(sum((c) => c.events)).toBeGreaterThan(0)
    expect(s.get(`${P}events_subscribers`)).toBe(1)
    expect(s.get(`${P}events_batches_total`)).toBe(sum((c) => c.batches))
    expect(s.get(`${P}events_sent_total`)).toBe(sum((c) => c.events))
    expect(s.get(`${P}events_lost_total`)).toBe(sum((c) => c.lost))
    expect(s.get(`${P}events_disconnects_total{reason="client"}`)).toBe(1)
    expect(s.get(`${P}state_file_saves_total`)).toBe(2)
    expect(s.has('process_cpu_seconds_total')).toBe(true)
    expect(s.has('process_resident_memory_bytes')).toBe(true)
    expect(s.has('nodejs_eventloop_lag_p99_seconds')).toBe(true)
  })
})
