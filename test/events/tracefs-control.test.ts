/**
 * tracefs as a newcomer meets it (docs/spec/kernel-interfaces.md §6): nothing is traced at
 * boot, set_event and the enable files in the kernel's syntax, `trace` with the header ftrace
 * prints for the nop tracer, current_tracer, the directory listings, and the websocket
 * stream, which enables what it records for itself, as `perf record -e` does.
 */
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { Kernel } from '../../src/kernel/kernel.ts'
import { EV, EVENTS } from '../../src/kernel/trace.ts'
import { Client, type Served, serve, until } from '../helpers/events.ts'
import { SMALL } from '../helpers/kernel.ts'

const T = '/sys/kernel/tracing'
const HEADER = [
  '# tracer: nop',
  '#',
  '# entries-in-buffer/entries-written: 0/0   #P:1',
  '#',
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
]

/** A machine whose threads do not run: the only events are those a test emits. */
const quiet = () => new Kernel({ seed: 7, topology: SMALL, autostart: false })

/**
 * trace_pipe on a real socket (curl -N), collecting lines. The response starts with the first
 * event, so the reader is not waited for.
 */
function openPipe(port: number): { lines: string[]; close(): void } {
  const lines: string[] = []
  let partial = ''
  const req = http.get({ host: '127.0.0.1', port, path: `${T}/trace_pipe` }, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() as string
      lines.push(...parts)
    })
  })
  req.on('error', () => {})
  return { lines, close: () => req.destroy() }
}

describe('tracefs at boot and after set_event', () => {
  let s: Served
  afterEach(() => s.close())
  const write = (method: 'PUT' | 'POST', file: string, payload: string) =>
    s.server.inject({ method, url: `${T}/${file}`, payload })
  const read = async (file: string) => (await s.server.inject(`${T}/${file}`)).body

  it('prints nothing on a fresh boot; after set_event kmem:kmem_scan_mm_end, only those lines', async () => {
    // The demo machine, running: ~300 000 events per virtual second if they were on.
    s = await serve()
    const pipe = openPipe(s.port)
    await until(() => s.hub.pipeReaders === 1, 'the reader')
    s.kernel.run(s.kernel.now + 3000)
    s.hub.flush()
    expect(await read('per_cpu/cpu0/stats')).toMatch(/^entries: 0\noverrun: 0\n/)
    expect(s.hub.traceRing.last).toBe(0)
    expect(EVENTS.some((_, i) => s.kernel.tracer.enabled(i))).toBe(false)
    expect(pipe.lines).toEqual([])
    expect(await read('set_event')).toBe('')
    expect(await read('events/enable')).toBe('0\n')

    // echo kmem:kmem_scan_mm_end | curl -T - …/set_event
    const r = await write('PUT', 'set_event', 'kmem:kmem_scan_mm_end\n')
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe('kmem:kmem_scan_mm_end\n')
    expect(await read('events/kmem/kmem_scan_mm_end/enable')).toBe('1\n')
    expect(await read('events/kmem/enable')).toBe('X\n')
    s.kernel.run(s.kernel.now + 10_000)
    s.hub.flush()
    const n = s.hub.traceRing.last
    expect(n).toBeGreaterThan(0)
    await until(() => pipe.lines.length >= n, 'the scans')
    expect(pipe.lines).toHaveLength(n)
    for (const l of pipe.lines) {
      expect(l).toMatch(/^ {10}kscand-90 {6}\[000\] \.{5} +\d+\.\d{6}: kmem_scan_mm_end: mm=/)
    }
    // Only what tracefs enabled is generated at all.
    expect(EVENTS.filter((_, i) => s.kernel.tracer.enabled(i)).map((e) => e.name)).toEqual([
      'kmem_scan_mm_end',
    ])
    pipe.close()
  })

  it('set_event takes the kernel syntax: systems, events, *, !; PUT truncates, POST appends', async () => {
    s = await serve({ kernel: quiet })
    const enabled = async () => (await read('set_event')).split('\n').filter(Boolean)
    expect((await write('PUT', 'set_event', 'kmem:*')).statusCode).toBe(200)
    expect(await enabled()).toEqual(
      EVENTS.filter((e) => e.system === 'kmem').map((e) => `kmem:${e.name}`),
    )
    expect((await write('POST', 'set_event', '!kmem:kmem_scan_mm_start')).statusCode).toBe(200)
    expect(await read('events/kmem/kmem_scan_mm_start/enable')).toBe('0\n')
    expect(await enabled()).toHaveLength(4)
    // A bare word names an event or a system; several names in one write.
    await write('PUT', 'set_event', 'kmem_scan_mm_end kthread\n')
    expect(await enabled()).toEqual([
      'kmem:kmem_scan_mm_end',
      ...EVENTS.filter((e) => e.system === 'kthread').map((e) => `kthread:${e.name}`),
    ])
    await write('PUT', 'set_event', '*:kthread_wake sysfs:')
    expect(await enabled()).toEqual(['kthread:kthread_wake', 'sysfs:sysfs_write'])
    await write('PUT', 'set_event', '*:*')
    expect(await enabled()).toHaveLength(EVENTS.length)
    expect(await read('events/enable')).toBe('1\n')
    // echo > set_event: disables everything.
    expect((await write('PUT', 'set_event', '\n')).statusCode).toBe(200)
    expect(await enabled()).toEqual([])
    // No globbing beyond a whole `*`, and an unknown name: EINVAL, nothing changed.
    await write('PUT', 'set_event', 'kmem:kmem_mm_enter')
    for (const bad of [
      'kmem:kmem_scan_*',
      'kmem_mm_enter nope',
      '*',
      'kmem:nope',
      'x'.repeat(200),
    ]) {
      const r = await write('PUT', 'set_event', bad)
      expect(r.statusCode, bad).toBe(400)
      expect(r.body).toBe('write error: Invalid argument\n')
    }
    expect(await enabled()).toEqual(['kmem:kmem_mm_enter'])
    expect((await write('POST', 'set_event', 'kmem:nope')).statusCode).toBe(400)
    expect(await enabled()).toEqual(['kmem:kmem_mm_enter'])
  })

  it('available_events lists system:event; current_tracer is nop', async () => {
    s = await serve({ kernel: quiet })
    expect(await read('available_events')).toBe(
      EVENTS.map((e) => `${e.system}:${e.name}\n`).join(''),
    )
    expect(await read('available_tracers')).toBe('nop\n')
    expect(await read('current_tracer')).toBe('nop\n')
    expect(await read('buffer_size_kb')).toBe('7 (expanded: 1408)\n')
    expect((await write('PUT', 'current_tracer', 'nop\n')).statusCode).toBe(200)
    // Setting a tracer expands the buffer, as tracing_set_tracer() does.
    expect(await read('buffer_size_kb')).toBe('1408\n')
    for (const bad of ['function', '', 'nopx']) {
      const r = await write('PUT', 'current_tracer', bad)
      expect(r.statusCode, bad).toBe(400)
    }
    expect(await read('current_tracer')).toBe('nop\n')
  })
})

describe('trace', () => {
  let s: Served
  afterEach(() => s.close())

  it('prints the nop header and the unread events without consuming them; a truncating write clears', async () => {
    s = await serve({ kernel: quiet, hub: { traceCapacity: 4 } })
    const trace = async () => (await s.server.inject(`${T}/trace`)).body
    expect((await trace()).split('\n')).toEqual([...HEADER, ''])
    await s.server.inject({ method: 'PUT', url: `${T}/set_event`, payload: 'kmem:kmem_mm_enter' })
    for (let i = 0; i < 6; i++)
      s.kernel.tracer.emit(i * 1000, 1000, 'memcached', EV.kmem_mm_enter, [i])
    const lines = (await trace()).split('\n')
    expect(lines.slice(0, 12)).toEqual([
      ...HEADER.slice(0, 2),
      // Four in the buffer; six written, two of them overwritten.
      '# entries-in-buffer/entries-written: 4/6   #P:1',
      ...HEADER.slice(3),
    ])
    expect(lines.slice(12)).toEqual([
      '       memcached-1000    [000] .....     0.002000: kmem_mm_enter: mm = 0000000000000002',
      '       memcached-1000    [000] .....     0.003000: kmem_mm_enter: mm = 0000000000000003',
      '       memcached-1000    [000] .....     0.004000: kmem_mm_enter: mm = 0000000000000004',
      '       memcached-1000    [000] .....     0.005000: kmem_mm_enter: mm = 0000000000000005',
      '',
    ])
    // Reading consumed nothing; an appending write does nothing.
    expect(
      (await s.server.inject({ method: 'POST', url: `${T}/trace`, payload: '' })).statusCode,
    ).toBe(200)
    expect((await trace()).split('\n')).toHaveLength(17)
    // echo > trace
    const r = await s.server.inject({ method: 'PUT', url: `${T}/trace`, payload: '\n' })
    expect(r.statusCode).toBe(200)
    expect((await trace()).split('\n')).toEqual([...HEADER, ''])
    expect((await s.server.inject(`${T}/per_cpu/cpu0/stats`)).body).toMatch(
      /^entries: 0\noverrun: 0\n.*read events: 0\n$/s,
    )
  })
})

describe('directories', () => {
  let s: Served
  afterEach(() => s.close())

  it('lists /sys/kernel/tracing and every directory below it, as ls does', async () => {
    s = await serve({ kernel: quiet })
    const ls = async (dir: string) => {
      const r = await s.server.inject(dir)
      expect(r.statusCode, dir).toBe(200)
      return r.body.split('\n').filter(Boolean)
    }
    expect(await ls('/sys/kernel')).toContain('tracing')
    expect(await ls(T)).toEqual([
      'available_events',
      'available_tracers',
      'buffer_size_kb',
      'current_tracer',
      'events',
      'per_cpu',
      'set_event',
      'trace',
      'trace_pipe',
      'tracing_on',
    ])
    expect(await ls(`${T}/`)).toEqual(await ls(T))
    expect(await ls(`${T}/events`)).toEqual([
      'enable',
      'kmem',
      'kthread',
      'migrate',
      'sched',
      'sysfs',
    ])
    expect(await ls(`${T}/events/kmem`)).toEqual([
      'enable',
      ...EVENTS.filter((e) => e.system === 'kmem')
        .map((e) => e.name)
        .sort(),
    ])
    expect(await ls(`${T}/events/kmem/kmem_scan_mm_end`)).toEqual(['enable'])
    const json = await s.server.inject({
      url: `${T}/events/kmem`,
      headers: { accept: 'application/json' },
    })
    expect(json.json().entries[0]).toMatchObject({
      name: 'enable',
      type: 'file',
      mode: '0644',
      value: 0,
    })
  })
})

describe('the stream beside tracefs', () => {
  let s: Served
  afterEach(() => s.close())

  it('a subscription enables what it selects for itself; tracefs records only its own', async () => {
    s = await serve()
    await s.server.inject({ method: 'PUT', url: `${T}/set_event`, payload: 'kthread:kthread_wake' })
    const c = await Client.open(`${s.url}?events=kmem:kmem_scan_mm_end`)
    const snap = await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    expect(snap.tracing.events['kthread:kthread_wake']).toBe(true)
    expect(snap.tracing.events['kmem:kmem_scan_mm_end']).toBe(false)
    const on = () => EVENTS.filter((_, i) => s.kernel.tracer.enabled(i)).map((e) => e.name)
    expect(on()).toEqual(['kmem_scan_mm_end', 'kthread_wake'])
    s.kernel.run(s.kernel.now + 10_000)
    s.hub.flush()
    const ring = s.hub.ring
    expect(ring.last).toBeGreaterThan(0)
    for (let q = 1; q <= ring.last; q++) expect(ring.id(q)).toBe(EV.kmem_scan_mm_end)
    const trace = s.hub.traceRing
    expect(trace.last).toBeGreaterThan(0)
    for (let q = trace.first; q <= trace.last; q++) expect(trace.id(q)).toBe(EV.kthread_wake)
    await until(() => c.position() >= ring.last, 'the batches')
    // Disabling in tracefs leaves the stream alone; the stream leaving leaves tracefs alone.
    await s.server.inject({ method: 'PUT', url: `${T}/set_event`, payload: '' })
    expect(on()).toEqual(['kmem_scan_mm_end'])
    await s.server.inject({ method: 'PUT', url: `${T}/set_event`, payload: 'kthread_wake' })
    c.ws.close()
    await until(() => s.hub.members.size === 0, 'the subscriber to leave')
    expect(on()).toEqual(['kthread_wake'])
  })

  it('a resume across a time nobody selected the events is reset, not a silent gap', async () => {
    s = await serve()
    const a = await Client.open(`${s.url}?events=kmem:kmem_scan_mm_end`)
    const snap = await a.waitFor((m) => m.type === 'snapshot', 'snapshot')
    s.kernel.run(s.kernel.now + 5000)
    s.hub.flush()
    await until(() => a.position() >= s.hub.ring.last, 'the batches')
    const at = a.position()
    a.ws.close()
    await until(() => s.hub.members.size === 0, 'a to leave')
    s.kernel.run(s.kernel.now + 5000)
    const b = await Client.open(
      `${s.url}?events=kmem:kmem_scan_mm_end&since=${at}&epoch=${snap.epoch}`,
    )
    expect(await b.closed).toEqual({ code: 4410, reason: 'expired' })
    expect(b.msgs.map((m) => [m.type, m.reason])).toEqual([['reset', 'expired']])
    expect(b.msgs[0].message).toMatch(/not recorded/)
  })
})
