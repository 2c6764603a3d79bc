/**
 * Record and replay (docs/experiments.md §7): a live session driven over
 * HTTP — accepted commands between steps of the virtual clock, rejected ones that change
 * nothing — gives GET /sim/scenario, and `kscand-sim run`'s runner replays that scenario
 * into the same trace, byte for byte.
 */
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { FULL_NAMES, traceLine } from '../../src/events/format.ts'
import { parseScenario } from '../../src/experiments/load.ts'
import { runScenario } from '../../src/experiments/run.ts'
import { boot, type MachineConfig } from '../../src/host/boot.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { MiB } from '../../src/kernel/constants.ts'
import type { Kernel } from '../../src/kernel/kernel.ts'
import { Scenario } from '../../src/schemas/scenario.ts'
import { appServer } from '../helpers/app.ts'
import { JSON_ACCEPT } from '../helpers/http.ts'
import { SMALL } from '../helpers/kernel.ts'
import { SMALL_PROCESS, tempDirs } from '../helpers/process.ts'

const dir = tempDirs()
const SEED = 11
const MACHINE: MachineConfig = {
  topology: SMALL,
  processes: [
    SMALL_PROCESS,
    { ...SMALL_PROCESS, comm: 'hot', workload: { pattern: 'hotset', hot_fraction: 0.1 } },
  ],
  tunables: { '/sys/kernel/mm/kscand/scan_sleep_ms': 40 },
}
const EVENTS = '/sys/kernel/tracing/events'
const SELECTED = [
  'kmem:kmem_mm_enter',
  'kmem:kmem_mm_exit',
  'kmem:kmem_scan_mm_end',
  'kmem:kmem_scan_mm_migrate',
  'sysfs:sysfs_write',
]

let closing: (() => Promise<void>) | null = null
afterEach(async () => {
  await closing?.()
  closing = null
})

async function session(
  opts: { restored?: boolean; maxBytes?: number } = {},
): Promise<{ server: FastifyInstance; kernel: Kernel }> {
  const { kernel, files } = boot({
    seed: SEED,
    machine: MACHINE,
    machineSource: 'test machine',
    onCorrupt: 'refuse',
  })
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const { server } = await appServer({
    kernel,
    runner,
    files,
    recording: {
      boot: { seed: SEED, machine: MACHINE, restored: opts.restored ?? false },
      maxBytes: opts.maxBytes,
    },
  })
  await server.ready()
  closing = async () => {
    runner.close()
    await server.close()
  }
  return { server, kernel }
}

const put = (server: FastifyInstance, url: string, value: string | number) =>
  server.inject({ method: 'PUT', url, payload: { value } })
const post = (server: FastifyInstance, url: string, payload?: object) =>
  server.inject({ method: 'POST', url, ...(payload && { payload }) })
const step = async (server: FastifyInstance, ms: number) =>
  expect((await post(server, '/sim/step', { ms })).statusCode).toBe(200)

describe('GET /sim/scenario', () => {
  it('replays headless into the live trace, byte for byte', async () => {
    const { server, kernel } = await session()
    // What a reader of the selected events sees from boot, as trace_pipe shows it.
    const live: string[] = []
    const mask = Uint8Array.from(FULL_NAMES, (name) => (SELECTED.includes(name) ? 1 : 0))
    kernel.tracer.subscribe((ev) => live.push(traceLine(ev)), mask)
    // The selection, as a user makes it in tracefs: everything off, then kscand's per-mm
    // events and the write events.
    expect((await put(server, `${EVENTS}/enable`, 0)).statusCode).toBe(200)
    for (const name of SELECTED) {
      const [system, event] = name.split(':')
      const path = `${system}/${event}/enable`
      expect((await put(server, `${EVENTS}/${path}`, 1)).statusCode).toBe(200)
    }

    const accepted = [
      () => put(server, '/sys/kernel/mm/kscand/scan_sleep_ms', 20),
      () => post(server, '/processes/1000/prctl', { option: 'PR_SET_PTE_A_SCAN_SCALE', arg2: 3 }),
      () => post(server, '/processes', { comm: 'late', size: 4 * MiB }),
      () => post(server, '/processes/1001/fork'),
      () => post(server, '/threads/kmigrated/stop'),
      () => server.inject({ method: 'DELETE', url: '/processes/1000' }),
      () => post(server, '/threads/kmigrated/start'),
    ]
    const rejected = [
      () => put(server, '/sys/kernel/mm/kscand/scan_sleep_ms', 'soon'),
      () => post(server, '/processes/1001/prctl', { option: 'PR_SET_PTE_A_SCAN_SCALE', arg3: 1 }),
      () => post(server, '/threads/kswapd0/stop'),
      () => post(server, '/processes/4242/fork'),
      () => put(server, '/sys/kernel/mm/kscand/vmstat', 1),
    ]
    for (let i = 0; i < accepted.length; i++) {
      await step(server, 700 + 131 * i)
      expect((await accepted[i]()).statusCode).toBeLessThan(300)
      const no = await rejected[i % rejected.length]()
      expect(no.statusCode).toBeGreaterThanOrEqual(400)
    }
    // The clock's own settings are not commands, but their trace lines are the session's.
    expect(
      (await server.inject({ method: 'PUT', url: '/sim', payload: { speed: 5 } })).statusCode,
    ).toBe(200)
    await step(server, 1500)

    const res = await server.inject({ url: '/sim/scenario' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/yaml; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="kscand-sim-session.yaml"',
    )
    const doc = parseYaml(res.body)
    expect(Scenario.safeParse(doc).success).toBe(true)
    expect(doc.seed).toBe(SEED)
    expect(doc.duration_ms).toBe(kernel.now)
    // The tracefs writes, each step and the speed are trace-only notes; the rest are the
    // accepted commands.
    const notes = doc.timeline.filter((c: { do: string }) => c.do === 'note')
    expect(notes.map((c: { path: string }) => c.path)).toEqual([
      `${EVENTS}/enable`,
      ...SELECTED.map((name) => `${EVENTS}/${name.replace(':', '/')}/enable`),
      ...accepted.map(() => '/sim/step'),
      '/sim',
      '/sim/step',
    ])
    expect(
      doc.timeline.filter((c: { do: string }) => c.do !== 'note').map((c: { do: string }) => c.do),
    ).toEqual(['write', 'prctl', 'spawn', 'fork', 'stop', 'exit', 'start'])
    expect(doc.record.trace.events).toEqual([
      ...doc.record.trace.events.filter((e: string) => !e.startsWith('sysfs:')),
      'sysfs:sysfs_write',
    ])

    const out = dir()
    const replay = runScenario(parseScenario(res.body, 'session.yaml'), { traceDir: out })
    const text = readFileSync(replay.tracePath as string, 'utf8')
    // The whole live trace from boot, the clock's and tracefs's write lines included.
    const clock = live.filter((l) => / path=\/sim(\/step)? /.test(l))
    expect(clock).toHaveLength(accepted.length + 2)
    expect(live.length).toBeGreaterThan(1000)
    // A write line for each command and the step before it, the speed, the last step and
    // the tracefs writes.
    const writes = live.filter((l) => l.includes('sysfs_write'))
    expect(writes).toHaveLength(accepted.length * 2 + 2 + SELECTED.length + 1)
    expect(text).toBe(live.map((l) => `${l}\n`).join(''))
  })

  it('answers JSON by Accept', async () => {
    const { server } = await session()
    await step(server, 100)
    const res = await server.inject({
      url: '/sim/scenario',
      headers: { accept: 'application/json' },
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-disposition']).toContain('kscand-sim-session.json')
    expect(res.json()).toMatchObject({ seed: SEED, duration_ms: 100, timeline: [] })
  })

  it('says why when the session is not a scenario', async () => {
    const atZero = await session()
    const zero = await atZero.server.inject({ url: '/sim/scenario', headers: JSON_ACCEPT })
    expect(zero.statusCode).toBe(409)
    expect(zero.json().detail).toContain('still at 0 ms')
    await closing?.()

    const restored = await session({ restored: true })
    await step(restored.server, 10)
    const r = await restored.server.inject({ url: '/sim/scenario', headers: JSON_ACCEPT })
    expect(r.statusCode).toBe(409)
    expect(r.json().detail).toContain('restored its state file')
  })

  it('stops recording at RECORD_BYTES and says so rather than truncate', async () => {
    const { server } = await session({ maxBytes: 200 })
    await step(server, 10)
    for (const v of [21, 22, 23, 24]) {
      expect((await put(server, '/sys/kernel/mm/kscand/scan_sleep_ms', v)).statusCode).toBe(200)
    }
    const res = await server.inject({ url: '/sim/scenario', headers: JSON_ACCEPT })
    expect(res.statusCode).toBe(413)
    expect(res.json().detail).toContain('outgrew RECORD_BYTES (200 bytes) at 10 ms')
  })
})
