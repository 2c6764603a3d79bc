/** Threads, processes, prctl, /proc/PID/status, simulated time and who may write. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { EVENTS, type TraceEvent } from '../../src/kernel/trace.ts'
import { type Built, build, JSON_ACCEPT, TOKEN } from '../helpers/http.ts'

const AUTH = { authorization: `Bearer ${TOKEN}` }
const SPEC = {
  comm: 'app',
  size: 8 * MiB,
  policy: { mode: 'bind', nodes: [2] },
  workload: { pattern: 'uniform' },
  access_rate: 1000,
}

let t: Built
beforeEach(async () => {
  t = await build({ token: TOKEN, processes: [{ comm: 'memcached', size: 16 * MiB }] })
})
afterEach(() => t.close())

const inject = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
) => t.server.inject({ method, url, payload, headers: { ...AUTH, ...headers } })

describe('threads', () => {
  it('lists kscand, kmigrated and kswapd, ps-like or as JSON', async () => {
    const text = (await inject('GET', '/threads')).body
    expect(text.split('\n')[0]).toBe('PID COMM      STATE   STARTED_MS CYCLES CPU_MS LAST_ERROR')
    expect(text).toMatch(/^90 +kscand +running/m)
    const json = (await inject('GET', '/threads', undefined, JSON_ACCEPT)).json()
    expect(json.map((x: { name: string }) => x.name)).toEqual([
      'kscand',
      'kmigrated',
      'kswapd0',
      'kswapd1',
    ])
  })

  it('shows one thread: state, pid, started at, cycles, last error', async () => {
    t.kernel.advance(3000)
    const r = await inject('GET', '/threads/kscand', undefined, JSON_ACCEPT)
    expect(r.json()).toMatchObject({
      name: 'kscand',
      pid: 90,
      state: 'sleeping',
      started_at: 0,
      last_error: null,
    })
    expect(r.json().cycles).toBeGreaterThan(0)
    expect((await inject('GET', '/threads/kscand')).body).toMatch(/^state sleeping$/m)
    expect((await inject('GET', '/threads/ksmd')).statusCode).toBe(404)
  })

  it('answers GET, HEAD, PUT or DELETE of an action with 405 and Allow: POST, doing nothing', async () => {
    const actions = [
      '/threads/kscand/start',
      '/threads/kscand/stop',
      '/threads/kswapd0/stop',
      '/processes/1000/fork',
      '/processes/1000/prctl',
      '/sim/step',
    ]
    const before = { now: t.kernel.now, pids: t.kernel.processList().length }
    for (const url of actions) {
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'] as const) {
        const r = await t.server.inject({ method, url, headers: AUTH })
        expect(r.statusCode, `${method} ${url}`).toBe(405)
        expect(r.headers.allow, `${method} ${url}`).toBe('POST')
      }
    }
    const r = await inject('GET', '/threads/kscand/stop', undefined, JSON_ACCEPT)
    expect(r.json()).toMatchObject({ errno: 95, code: 'EOPNOTSUPP' })
    expect(r.json().detail).toBe('GET does not apply to /threads/:name/stop (allowed: POST)')
    expect((await inject('GET', '/threads/kscand/stop')).body).toBe(
      '/threads/kscand/stop: Operation not supported\n',
    )
    expect(t.kernel.thread('kscand').state).not.toBe('stopped')
    expect({ now: t.kernel.now, pids: t.kernel.processList().length }).toEqual(before)
  })

  it('stops and starts idempotently, each transition traced', async () => {
    const events: TraceEvent[] = []
    t.kernel.tracer.subscribe((e) => events.push(e))
    t.kernel.advance(2500)
    const stop = await inject('POST', '/threads/kscand/stop', undefined, JSON_ACCEPT)
    expect(stop.statusCode).toBe(200)
    expect(stop.json()).toMatchObject({
      changed: true,
      message: 'stopped',
      thread: { state: 'stopped', stopped_at: 2500 },
    })
    const again = await inject('POST', '/threads/kscand/stop')
    expect(again.statusCode).toBe(200)
    expect(again.body).toBe('kscand: already stopped\n')
    // A stopped thread does not run: time passes, its cycle count stays.
    const cycles = t.kernel.kscand.thread.cycles
    t.kernel.advance(5000)
    expect(t.kernel.kscand.thread.cycles).toBe(cycles)
    expect((await inject('POST', '/threads/kscand/start')).body).toBe('kscand: started\n')
    expect((await inject('POST', '/threads/kscand/start')).body).toBe('kscand: already running\n')
    const names = events.map((e) => EVENTS[e.id].name)
    expect(names.filter((n) => n === 'kthread_stop' || n === 'kthread_start')).toEqual([
      'kthread_stop',
      'kthread_start',
    ])
    expect(names.filter((n) => n === 'sysfs_write')).toHaveLength(2)
  })

  it('refuses to stop kswapd (EPERM, 403) and changes nothing', async () => {
    const events: TraceEvent[] = []
    t.kernel.tracer.subscribe((e) => events.push(e))
    for (const name of ['kswapd0', 'kswapd1']) {
      const before = (await inject('GET', `/threads/${name}`, undefined, JSON_ACCEPT)).json()
      const r = await inject('POST', `/threads/${name}/stop`, undefined, JSON_ACCEPT)
      expect(r.statusCode).toBe(403)
      expect(r.json()).toMatchObject({
        errno: 1,
        code: 'EPERM',
        detail: `${name} cannot be stopped from userspace`,
      })
      expect((await inject('POST', `/threads/${name}/stop`)).body).toMatch(
        /Operation not permitted/,
      )
      expect((await inject('GET', `/threads/${name}`, undefined, JSON_ACCEPT)).json()).toEqual(
        before,
      )
      expect((await inject('POST', `/threads/${name}/start`)).body).toBe(
        `${name}: already running\n`,
      )
    }
    expect(events).toEqual([])
    t.kernel.advance(100)
    expect(t.kernel.thread('kswapd0').state).toBe('sleeping')
  })

  it('shows kscand paused while scan_enabled is 0, running again once re-enabled', async () => {
    const write = (v: string) =>
      t.server.inject({
        method: 'POST',
        url: '/sys/kernel/mm/kscand/scan_enabled',
        payload: v,
        headers: { ...AUTH, 'content-type': 'text/plain' },
      })
    expect((await write('0')).body).toBe('0\n')
    t.kernel.advance(100)
    const paused = (await inject('GET', '/threads/kscand', undefined, JSON_ACCEPT)).json()
    expect(paused.state).toBe('paused')
    await write('1')
    expect((await inject('GET', '/threads/kscand', undefined, JSON_ACCEPT)).json().state).toBe(
      'running',
    )
    t.kernel.advance(100)
    expect((await inject('GET', '/threads/kscand', undefined, JSON_ACCEPT)).json().state).not.toBe(
      'paused',
    )
  })

  it('stops kmigrated at a should_stop point with its lists intact', async () => {
    t.kernel.exec({
      ...SPEC,
      comm: 'hot',
      workload: { pattern: 'uniform' },
      access_rate: 1e7,
    } as never)
    t.kernel.advance(8000)
    expect((await inject('POST', '/threads/kmigrated/stop')).statusCode).toBe(200)
    const km = t.kernel.kmigrated
    expect(km.thread.state).toBe('stopped')
    // No half-done migration: the count of queued entries is what the lists hold.
    expect(km.slots.reduce((n, s) => n + s.migrate_head.length, 0)).toBe(km.queued)
    const left = km.queued
    t.kernel.advance(2000)
    expect(km.slots.reduce((n, s) => n + s.migrate_head.length, 0)).toBe(km.queued)
    expect(km.queued).toBeGreaterThanOrEqual(left)
  })
})

describe('processes', () => {
  it('spawns a process: 201 with the pid and a Location', async () => {
    const r = await inject('POST', '/processes', SPEC, JSON_ACCEPT)
    expect(r.statusCode).toBe(201)
    expect(r.headers.location).toBe('/processes/1001')
    expect(r.json()).toMatchObject({
      pid: 1001,
      comm: 'app',
      pages: 2048,
      pages_per_node: [0, 0, 2048],
      pte_scan_scale: 8,
    })
    const text = await inject('POST', '/processes', { ...SPEC, comm: 'app2' })
    expect(text.body).toBe('1002\n')
    expect(t.kernel.processList().map((p) => p.comm)).toEqual(['memcached', 'app', 'app2'])
  })

  it('lists processes, ps-like or as JSON', async () => {
    const text = (await inject('GET', '/processes')).body
    expect(text).toMatch(/^PID +PPID +COMM/)
    expect(text).toMatch(/^1000 +- +memcached +16384 /m)
    const json = (await inject('GET', '/processes', undefined, JSON_ACCEPT)).json()
    expect(json).toHaveLength(1)
    // Started without a workload: the default one.
    expect(json[0]).toMatchObject({ comm: 'memcached', workload: { pattern: 'uniform' } })
  })

  it('takes a VMA layout, a policy and a workload with its parameters', async () => {
    const spec = {
      comm: 'layout',
      vmas: [
        { kind: 'file_ro', size: MiB },
        { kind: 'anon', size: 4 * MiB },
        { kind: 'shared', size: MiB, mbind: true },
      ],
      policy: { mode: 'interleave', nodes: [0, 2] },
      workload: {
        pattern: 'hotset',
        hot_fraction: 0.1,
        hot_access_fraction: 0.9,
        shift_at_ms: 1000,
      },
      access_rate: 5e4,
    }
    const r = await inject('POST', '/processes', spec, JSON_ACCEPT)
    expect(r.statusCode).toBe(201)
    const d = (await inject('GET', `/processes/${r.json().pid}`, undefined, JSON_ACCEPT)).json()
    expect(d).toMatchObject({ comm: 'layout', pages: 1536, access_rate: 5e4 })
    expect(d.workload).toEqual(spec.workload)
    expect(d.pages_per_node[0] + d.pages_per_node[2]).toBe(1536)
  })

  it.each([
    ['an unknown field', { ...SPEC, nice: 5 }],
    ['both size and vmas', { ...SPEC, vmas: [{ kind: 'anon', size: MiB }] }],
    ['neither size nor vmas', { comm: 'x' }],
    ['a size not a multiple of 4096', { ...SPEC, size: 1000 }],
    ['a comm with a space', { ...SPEC, comm: 'a b' }],
    ['a comm too long', { ...SPEC, comm: 'abcdefghijklmnop' }],
    ['an unknown pattern', { ...SPEC, workload: { pattern: 'random' } }],
    ['a zipf without theta', { ...SPEC, workload: { pattern: 'zipf' } }],
    ['an unknown node', { ...SPEC, policy: { mode: 'bind', nodes: [7] } }],
    ['a CPU-less local node', { ...SPEC, policy: { mode: 'local', cpu_node: 2 } }],
    ['a string size', { ...SPEC, size: '8M' }],
  ])('rejects %s with 400 EINVAL and changes nothing', async (_name, spec) => {
    const free = t.kernel.machine.nodes.map((n) => n.free)
    const r = await inject('POST', '/processes', spec, JSON_ACCEPT)
    expect(r.statusCode).toBe(400)
    expect(r.json().code).toBe('EINVAL')
    expect(t.kernel.processList()).toHaveLength(1)
    expect(t.kernel.machine.nodes.map((n) => n.free)).toEqual(free)
  })

  it('answers 507 ENOMEM when the machine lacks the memory', async () => {
    const r = await inject('POST', '/processes', { ...SPEC, size: 200 * MiB }, JSON_ACCEPT)
    expect(r.statusCode).toBe(507)
    expect(r.json()).toMatchObject({ errno: 12, code: 'ENOMEM' })
    expect(t.kernel.processList()).toHaveLength(1)
  })

  it('exits a process with DELETE: its pages come back, kscand forgets it', async () => {
    const free = t.kernel.machine.nodes.map((n) => n.free)
    const pid = (await inject('POST', '/processes', SPEC, JSON_ACCEPT)).json().pid
    const r = await inject('DELETE', `/processes/${pid}`, undefined, JSON_ACCEPT)
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual({ pid, exited: true })
    expect(t.kernel.machine.nodes.map((n) => n.free)).toEqual(free)
    expect((await inject('DELETE', `/processes/${pid}`)).statusCode).toBe(404)
    expect((await inject('GET', `/processes/${pid}`)).body).toBe(
      `/processes/${pid}: No such process\n`,
    )
  })

  it('forks: the child starts at scale 8', async () => {
    await inject('POST', '/processes/1000/prctl', { option: 79, arg2: 3 })
    const r = await inject('POST', '/processes/1000/fork', undefined, JSON_ACCEPT)
    expect(r.statusCode).toBe(201)
    expect(r.json()).toMatchObject({ pid: 1001, ppid: 1000, comm: 'memcached', pte_scan_scale: 8 })
  })

  it.each(['0', '-1', 'abc', '1000x', '99999999999', '1e3'])(
    'unknown pid %s is 404 ESRCH',
    async (pid) => {
      const r = await inject('GET', `/processes/${pid}`, undefined, JSON_ACCEPT)
      expect(r.statusCode).toBe(404)
      expect(r.json().code).toBe('ESRCH')
    },
  )
})

describe('prctl', () => {
  const prctl = (body: object) => inject('POST', '/processes/1000/prctl', body, JSON_ACCEPT)

  it('sets and gets the scan scale, clamping to [0, 10]', async () => {
    expect((await prctl({ option: 'PR_GET_PTE_A_SCAN_SCALE' })).json()).toEqual({ result: 8 })
    expect((await prctl({ option: 'PR_SET_PTE_A_SCAN_SCALE', arg2: 99 })).json()).toEqual({
      result: 0,
    })
    expect((await prctl({ option: 80 })).json()).toEqual({ result: 10 })
    expect((await prctl({ option: 79, arg2: 0 })).json()).toEqual({ result: 0 })
    expect(t.kernel.process(1000).mm.pte_scan_scale).toBe(0)
    // (unsigned int) of 2^32 + 3 is 3
    expect((await prctl({ option: 79, arg2: '4294967299' })).json()).toEqual({ result: 0 })
    expect(t.kernel.process(1000).mm.pte_scan_scale).toBe(3)
    // -1 as unsigned long is all ones; as unsigned int 0xffffffff, clamped to 10
    await prctl({ option: 79, arg2: -1 })
    expect(t.kernel.process(1000).mm.pte_scan_scale).toBe(10)
  })

  it.each([
    [{ option: 79, arg2: 1, arg3: 1 }],
    [{ option: 79, arg2: 1, arg5: '18446744073709551615' }],
    [{ option: 80, arg2: 1 }],
    [{ option: 78 }],
    [{ option: 'PR_SET_NAME' }],
    [{ option: 79, arg2: 1.5 }],
    [{ option: 79, arg2: 1, extra: 0 }],
  ])('rejects %j with EINVAL and leaves the scale', async (body) => {
    const r = await prctl(body)
    expect(r.statusCode).toBe(400)
    expect(r.json().code).toBe('EINVAL')
    expect(t.kernel.process(1000).mm.pte_scan_scale).toBe(8)
  })

  it('is ESRCH for an unknown pid', async () => {
    const r = await inject('POST', '/processes/4242/prctl', { option: 80 })
    expect(r.statusCode).toBe(404)
  })
})

describe('/proc/PID/status', () => {
  it('has the PTEAScanScale line after VmSwap, right-aligned in width 8', async () => {
    const body = (await inject('GET', '/proc/1000/status')).body
    const lines = body.split('\n')
    expect(lines[0]).toBe('Name:\tmemcached')
    expect(lines).toContain('Pid:\t1000')
    expect(lines).toContain('VmRSS:\t   16384 kB')
    const swap = lines.indexOf('VmSwap:\t       0 kB')
    expect(lines[swap + 1]).toBe('PTEAScanScale:\t       8')
    await inject('POST', '/processes/1000/prctl', { option: 79, arg2: 10 })
    expect((await inject('GET', '/proc/1000/status')).body).toContain('PTEAScanScale:\t      10\n')
    const json = (await inject('GET', '/proc/1000/status', undefined, JSON_ACCEPT)).json()
    expect(json).toMatchObject({ Name: 'memcached', Pid: 1000, PTEAScanScale: 10, VmRSS: 16384 })
  })

  it('is ENOENT for a pid that is not running, as /proc is', async () => {
    expect((await inject('GET', '/proc/4242/status')).body).toBe(
      '/proc/4242/status: No such file or directory\n',
    )
    expect((await inject('GET', '/proc/self/status')).statusCode).toBe(404)
  })
})

describe('simulated time', () => {
  it('shows now, speed, mode and seed', async () => {
    const r = await inject('GET', '/sim', undefined, JSON_ACCEPT)
    expect(r.json()).toEqual({ now: 0, mode: 'paused', speed: 1, lag_ms: 0, seed: 7 })
    expect((await inject('GET', '/sim')).body).toBe(
      'now 0\nmode paused\nspeed 1\nlag_ms 0\nseed 7\n',
    )
  })

  it('steps N virtual ms and answers when done', async () => {
    const r = await inject('POST', '/sim/step', { ms: 2500 }, JSON_ACCEPT)
    expect(r.json().now).toBe(2500)
    expect(t.kernel.now).toBe(2500)
    expect(t.kernel.kscand.thread.cycles).toBeGreaterThan(0)
  })

  it('changes speed and mode: pause and resume', async () => {
    const r = await inject('PUT', '/sim', { speed: 50 }, JSON_ACCEPT)
    expect(r.json()).toMatchObject({ speed: 50, mode: 'paused' })
    expect((await inject('PUT', '/sim', { mode: 'realtime' }, JSON_ACCEPT)).json().mode).toBe(
      'realtime',
    )
    expect((await inject('PUT', '/sim', { mode: 'paused' }, JSON_ACCEPT)).json().mode).toBe(
      'paused',
    )
  })

  it.each([
    [{ speed: 0 }],
    [{ speed: -1 }],
    [{ speed: 1e7 }],
    [{ mode: 'fast' }],
    [{ tick: 1 }],
    [{ speed: '2' }],
  ])('rejects %j and keeps the clock settings', async (body) => {
    const r = await inject('PUT', '/sim', body, JSON_ACCEPT)
    expect(r.statusCode).toBe(400)
    expect(t.runner.status()).toMatchObject({ speed: 1, mode: 'paused' })
  })

  it.each([[{ ms: 0 }], [{ ms: 1.5 }], [{ ms: 3_600_001 }], [{}], [{ ms: '10' }]])(
    'rejects step %j',
    async (body) => {
      expect((await inject('POST', '/sim/step', body)).statusCode).toBe(400)
      expect(t.kernel.now).toBe(0)
    },
  )
})

describe('who may write', () => {
  const writes: [string, string, object | string | undefined][] = [
    ['POST', '/sys/kernel/mm/kscand/scan_sleep_ms', '5'],
    ['POST', '/threads/kscand/stop', undefined],
    ['POST', '/processes', SPEC],
    ['DELETE', '/processes/1000', undefined],
    ['POST', '/processes/1000/prctl', { option: 79, arg2: 1 }],
    ['POST', '/processes/1000/fork', undefined],
    ['PUT', '/sim', { speed: 2 }],
    ['POST', '/sim/step', { ms: 10 }],
  ]

  it.each(writes)('%s %s needs the bearer token', async (method, url, payload) => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Basic ${TOKEN}`,
      'Bearer',
      `Bearer ${TOKEN}x`,
    ]) {
      const r = await t.server.inject({
        method: method as 'POST',
        url,
        payload,
        headers: { ...JSON_ACCEPT, ...(authorization ? { authorization } : {}) },
      })
      expect(r.statusCode, String(authorization)).toBe(401)
      expect(r.headers['www-authenticate']).toBe('Bearer realm="kscand-sim"')
      expect(r.json()).toMatchObject({ code: 'EACCES', errno: 13 })
    }
    expect(t.kernel.kscand.scan_sleep_ms).toBe(20)
    expect(t.kernel.kscand.thread.state).toBe('running')
    expect(t.kernel.processList()).toHaveLength(1)
    expect(t.kernel.process(1000).mm.pte_scan_scale).toBe(8)
    expect(t.runner.status()).toMatchObject({ speed: 1, now: 0 })
  })

  it('reads are open', async () => {
    for (const url of [
      '/sys/kernel/mm/kscand/scan_sleep_ms',
      '/threads',
      '/processes',
      '/sim',
      '/proc/vmstat',
      '/proc/1000/status',
    ]) {
      expect((await t.server.inject({ url })).statusCode, url).toBe(200)
    }
  })

  it('without a configured token, anyone may write', async () => {
    await t.close()
    t = await build()
    const r = await t.server.inject({
      method: 'POST',
      url: '/sys/kernel/mm/kscand/scan_sleep_ms',
      payload: '5',
      headers: { 'content-type': 'text/plain' },
    })
    expect(r.statusCode).toBe(200)
  })
})
