/**
 * tracefs over a real socket: trace_pipe lines of all five kmem events byte for byte (the
 * ftrace context columns and the TP_printk text of docs/spec/kscand-v3.md §5), the LOST line,
 * consumption, and the control files (enable 0/1/X, tracing_on, buffer_size_kb,
 * per_cpu/cpu0/stats).
 */
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { SLOT_BYTES } from '../../src/events/ring.ts'
import { MiB } from '../../src/kernel/constants.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { EV, EVENTS } from '../../src/kernel/trace.ts'
import { type Served, serve, until } from '../helpers/events.ts'
import { SMALL } from '../helpers/kernel.ts'

const T = '/sys/kernel/tracing'
const MM = 0xdeadbeef

/** A machine whose threads do not run: the only events are those a test emits. */
const quiet = () => new Kernel({ seed: 7, topology: SMALL, autostart: false })

/** A trace_pipe reader on a real socket, collecting lines. */
class Pipe {
  readonly lines: string[] = []
  private res!: http.IncomingMessage
  private partial = ''
  readonly ready: Promise<void>
  constructor(port: number) {
    this.ready = new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `${T}/trace_pipe` }, (res) => {
        this.res = res
        expect(res.statusCode).toBe(200)
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8')
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          const parts = (this.partial + chunk).split('\n')
          this.partial = parts.pop() as string
          this.lines.push(...parts)
        })
        resolve()
      })
      req.on('error', reject)
    })
  }
  async take(n: number): Promise<string[]> {
    await until(() => this.lines.length >= n, `${n} trace_pipe lines`)
    return this.lines.splice(0, n)
  }
  close(): void {
    this.res.destroy()
  }
}

/** Every event is off at boot: enable the kmem events in tracefs. */
async function enableKmem(s: Served): Promise<void> {
  const r = await s.server.inject({ method: 'PUT', url: `${T}/events/kmem/enable`, payload: '1' })
  expect(r.statusCode).toBe(200)
}

describe('trace_pipe', () => {
  let s: Served
  afterEach(() => s.close())

  it('prints the five kmem events in ftrace format, byte for byte', async () => {
    s = await serve({ kernel: quiet })
    await enableKmem(s)
    const t = s.kernel.tracer
    t.emit(0, 1000, 'memcached', EV.kmem_mm_enter, [MM])
    t.emit(2_000_200, 90, 'kscand', EV.kmem_scan_mm_start, [MM])
    t.emit(2_001_000, 90, 'kscand', EV.kmem_scan_mm_end, [MM, 140737488355328, 12, 2000, 262144, 1])
    t.emit(2_100_005, 91, 'kmigrated', EV.kmem_scan_mm_migrate, [MM, 0, 1, 3, 0])
    t.emit(12_345_678, 1000, 'memcached', EV.kmem_mm_exit, [MM])
    const pipe = new Pipe(s.port)
    await pipe.ready
    expect(await pipe.take(5)).toEqual([
      '       memcached-1000    [000] .....     0.000000: kmem_mm_enter: mm = 00000000deadbeef',
      '          kscand-90      [000] .....     2.000200: kmem_scan_mm_start: mm = 00000000deadbeef',
      '          kscand-90      [000] .....     2.001000: kmem_scan_mm_end: mm=00000000deadbeef, start = 140737488355328, total = 12, scan_period = 2000, scan_size = 262144 node = 1',
      '       kmigrated-91      [000] .....     2.100005: kmem_scan_mm_migrate: mm = 00000000deadbeef rc = 0 node = 1 msuccess = 3 mfailed = 0 ',
      '       memcached-1000    [000] .....    12.345678: kmem_mm_exit: mm = 00000000deadbeef',
    ])
    pipe.close()
  })

  it('says CPU:0 [LOST N EVENTS] where the ring overwrote what the reader had not read', async () => {
    s = await serve({ kernel: quiet, hub: { traceCapacity: 16 } })
    await enableKmem(s)
    const emit = (n: number) => {
      for (let i = 0; i < n; i++) s.kernel.tracer.emit(i, 90, 'kscand', EV.kmem_scan_mm_start, [i])
    }
    emit(40)
    const pipe = new Pipe(s.port)
    await pipe.ready
    const first = await pipe.take(17)
    expect(first[0]).toBe('CPU:0 [LOST 24 EVENTS]')
    expect(first[1]).toBe(
      '          kscand-90      [000] .....     0.000024: kmem_scan_mm_start: mm = 0000000000000018',
    )
    // Reading keeps up: no loss. A burst larger than the ring between reads: loss again.
    emit(10)
    expect((await pipe.take(10)).some((l) => l.startsWith('CPU:'))).toBe(false)
    emit(100)
    const burst = await pipe.take(17)
    expect(burst[0]).toBe('CPU:0 [LOST 84 EVENTS]')
    expect(burst[16]).toBe(
      '          kscand-90      [000] .....     0.000099: kmem_scan_mm_start: mm = 0000000000000063',
    )
    const stats = await s.server.inject(`${T}/per_cpu/cpu0/stats`)
    expect(stats.body).toBe(
      'entries: 0\noverrun: 108\ncommit overrun: 0\nbytes: 0\noldest event ts:     0.000000\n' +
        'now ts:     0.000000\ndropped events: 0\nread events: 42\n',
    )
    pipe.close()
  })

  it('consumes: what one reader read, the next reader does not see', async () => {
    s = await serve({ kernel: quiet })
    await enableKmem(s)
    const t = s.kernel.tracer
    for (let i = 0; i < 5; i++) t.emit(i, 90, 'kscand', EV.kmem_scan_mm_start, [i])
    const a = new Pipe(s.port)
    await a.ready
    expect(await a.take(5)).toHaveLength(5)
    a.close()
    await until(() => s.hub.pipeReaders === 0, 'the first reader to go')
    for (let i = 5; i < 8; i++) t.emit(i, 90, 'kscand', EV.kmem_scan_mm_start, [i])
    const stats = await s.server.inject(`${T}/per_cpu/cpu0/stats`)
    expect(stats.body).toMatch(/^entries: 3\n.*read events: 5\n$/s)
    const b = new Pipe(s.port)
    await b.ready
    const lines = await b.take(3)
    expect(lines.map((l) => l.slice(-2))).toEqual(['05', '06', '07'])
    b.close()
  })

  it('carries what the simulated kernel emits: all five kmem events, in the docs/spec/kscand-v3.md §5 formats', async () => {
    s = await serve({
      kernel: () => new Kernel({ seed: 7, topology: SMALL, numaBalancingScanDelayMs: 0 }),
    })
    await enableKmem(s)
    // Few visits per wake-up, so the pipe carries hundreds of lines, not a million.
    s.kernel.kscand.store_mms_to_scan(2)
    const p = s.kernel.exec({
      comm: 'hot',
      size: 32 * MiB,
      policy: { mode: 'bind', nodes: [2] },
      workload: { pattern: 'hotset', hot_fraction: 0.1, hot_access_fraction: 0.9 },
    })
    s.kernel.run(s.kernel.now + 5000)
    s.kernel.exit(p.pid)
    const pipe = new Pipe(s.port)
    await pipe.ready
    await until(() => pipe.lines.length >= s.hub.traceRing.last, 'every event')
    const ctx = String.raw`^ {0,15}\S+-\d+ +\[000\] \.{5} +\d+\.\d{6}: `
    const mm = '[0-9a-f]{16}'
    const formats: Record<string, RegExp> = {
      kmem_mm_enter: new RegExp(`${ctx}kmem_mm_enter: mm = ${mm}$`),
      kmem_mm_exit: new RegExp(`${ctx}kmem_mm_exit: mm = ${mm}$`),
      kmem_scan_mm_start: new RegExp(`${ctx}kmem_scan_mm_start: mm = ${mm}$`),
      kmem_scan_mm_end: new RegExp(
        `${ctx}kmem_scan_mm_end: mm=${mm}, start = \\d+, total = \\d+, scan_period = \\d+, scan_size = \\d+ node = -?\\d+$`,
      ),
      kmem_scan_mm_migrate: new RegExp(
        `${ctx}kmem_scan_mm_migrate: mm = ${mm} rc = -?\\d+ node = -?\\d+ msuccess = \\d+ mfailed = \\d+ $`,
      ),
    }
    for (const [name, re] of Object.entries(formats)) {
      const lines = pipe.lines.filter((l) => l.includes(`: ${name}: `))
      expect(lines.length, name).toBeGreaterThan(0)
      for (const l of lines) expect(l).toMatch(re)
    }
    pipe.close()
  })
})

describe('tracefs files', () => {
  let s: Served
  afterEach(() => s.close())
  const put = (url: string, payload: string, headers = {}) =>
    s.server.inject({ method: 'PUT', url, payload, headers })
  const read = async (url: string) => (await s.server.inject(url)).body

  it('per-event enable files read 0, 1 or X, and a disabled event is not generated', async () => {
    s = await serve()
    await put(`${T}/events/enable`, '1')
    expect(await read(`${T}/events/kmem/enable`)).toBe('1\n')
    expect((await put(`${T}/events/kmem/kmem_scan_mm_start/enable`, '0\n')).statusCode).toBe(200)
    expect(await read(`${T}/events/kmem/kmem_scan_mm_start/enable`)).toBe('0\n')
    expect(await read(`${T}/events/kmem/enable`)).toBe('X\n')
    expect(await read(`${T}/events/enable`)).toBe('X\n')
    expect(await read(`${T}/events/kthread/enable`)).toBe('1\n')
    expect(s.kernel.tracer.enabled(EV.kmem_scan_mm_start)).toBe(false)
    const ring = s.hub.traceRing
    const from = ring.last
    s.kernel.run(s.kernel.now + 200)
    const ids = new Set<number>()
    for (let q = Math.max(from + 1, ring.first); q <= ring.last; q++) ids.add(ring.id(q))
    expect(ids.has(EV.kmem_scan_mm_start)).toBe(false)
    expect(ids.has(EV.kthread_sleep)).toBe(true)
    const json = await s.server.inject({
      url: `${T}/events/kmem/enable`,
      headers: { accept: 'application/json' },
    })
    expect(json.json()).toEqual({ path: `${T}/events/kmem/enable`, mode: '0644', value: 'X' })
    for (const bad of ['2', 'x', '-1', '1 1']) {
      const r = await put(`${T}/events/kmem/enable`, bad)
      expect(r.statusCode, bad).toBe(400)
    }
    expect(await read(`${T}/events/kmem/enable`)).toBe('X\n')
    await put(`${T}/events/enable`, '1')
    expect(EVENTS.every((_, i) => s.kernel.tracer.enabled(i))).toBe(true)
    await put(`${T}/events/kmem/enable`, '0')
    expect(await read(`${T}/events/kmem/kmem_mm_enter/enable`)).toBe('0\n')
    expect(await read(`${T}/events/enable`)).toBe('X\n')
  })

  it('tracing_on 0 stops recording (nothing is generated), 1 resumes; buffer_size_kb resizes', async () => {
    s = await serve()
    // Before the first use, the buffer has its boot size and says what it will expand to.
    expect(await read(`${T}/buffer_size_kb`)).toBe('7 (expanded: 1408)\n')
    await put(`${T}/events/enable`, '1')
    const ring = s.hub.traceRing
    expect(await read(`${T}/tracing_on`)).toBe('1\n')
    await put(`${T}/tracing_on`, '0')
    expect(await read(`${T}/tracing_on`)).toBe('0\n')
    expect(EVENTS.some((_, i) => s.kernel.tracer.enabled(i))).toBe(false)
    const at = ring.last
    s.kernel.run(s.kernel.now + 100)
    expect(ring.last).toBe(at)
    await put(`${T}/tracing_on`, '7')
    expect(await read(`${T}/tracing_on`)).toBe('1\n')
    s.kernel.run(s.kernel.now + 100)
    expect(ring.last).toBeGreaterThan(at)

    expect(await read(`${T}/buffer_size_kb`)).toBe('1408\n')
    expect(ring.capacity).toBe(Math.floor((1408 * 1024) / SLOT_BYTES))
    expect((await put(`${T}/buffer_size_kb`, '100')).statusCode).toBe(200)
    expect(await read(`${T}/buffer_size_kb`)).toBe('100\n')
    expect(ring.capacity).toBe(Math.floor((100 * 1024) / SLOT_BYTES))
    expect(ring.first).toBe(ring.last - ring.capacity + 1)
    expect((await put(`${T}/buffer_size_kb`, '0')).statusCode).toBe(400)
    expect((await put(`${T}/buffer_size_kb`, '99999999999')).statusCode).toBe(507)
    expect(await read(`${T}/buffer_size_kb`)).toBe('100\n')
  })

  it('read-only files refuse writes with EACCES, and HEAD of trace_pipe consumes nothing', async () => {
    s = await serve({ kernel: quiet })
    for (const f of ['trace_pipe', 'per_cpu/cpu0/stats']) {
      const r = await put(`${T}/${f}`, '1')
      expect(r.statusCode, f).toBe(403)
      expect(r.body).toBe('write error: Permission denied\n')
    }
    await enableKmem(s)
    s.kernel.tracer.emit(0, 90, 'kscand', EV.kmem_scan_mm_start, [1])
    const head = await s.server.inject({ method: 'HEAD', url: `${T}/trace_pipe` })
    expect(head.statusCode).toBe(200)
    expect(head.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(s.hub.pipeReaders).toBe(0)
    expect(await read(`${T}/per_cpu/cpu0/stats`)).toMatch(/^entries: 1\n.*read events: 0\n$/s)
  })

  it('writes need the token when one is configured, and are audited as sysfs_write', async () => {
    s = await serve({ token: 'tok' })
    await put(`${T}/events/enable`, '1', { authorization: 'Bearer tok' })
    expect((await put(`${T}/tracing_on`, '0')).statusCode).toBe(401)
    expect(await read(`${T}/tracing_on`)).toBe('1\n')
    const ok = await put(`${T}/events/kthread/enable`, '0', { authorization: 'Bearer tok' })
    expect(ok.statusCode).toBe(200)
    const last = s.hub.traceRing.get(s.hub.traceRing.last)
    expect(last?.id).toBe(EV.sysfs_write)
    expect(last?.args).toEqual([`${T}/events/kthread/enable`, '1', '0'])
  })
})
