/**
 * Probes, overload shedding, the write rate limit, security headers and body limits, with
 * `inject` on the production plugin stack.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { buildOps, type OpsApp, type OpsAppOptions } from '../helpers/process.ts'

const SLEEP = '/sys/kernel/mm/kscand/scan_sleep_ms'
const JSON_ACCEPT = { accept: 'application/json' }

const opened: OpsApp[] = []
afterEach(async () => {
  for (const a of opened.splice(0)) await a.close()
})
async function open(opts: OpsAppOptions = {}): Promise<OpsApp> {
  const a = await buildOps(opts)
  opened.push(a)
  return a
}

/** Blocks the event loop for `ms`, as a runaway computation would. */
function block(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {}
}

describe('probes', () => {
  it('/healthz is 200 while the process lives; /readyz follows the lifecycle', async () => {
    const a = await open()
    const get = (url: string) => a.server.inject({ url, headers: JSON_ACCEPT })

    a.lifecycle.phase = 'starting'
    expect((await get('/healthz')).statusCode).toBe(200)
    const starting = await get('/readyz')
    expect(starting.statusCode).toBe(503)
    expect(starting.json()).toEqual({ status: 'starting', now: 0 })

    a.lifecycle.ready()
    await a.runner.step(1500)
    const ready = await get('/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', now: 1500 })
    expect(ready.headers['cache-control']).toBe('no-store')
    const text = await a.server.inject({ url: '/readyz' })
    expect(text.body).toBe('ready\n')
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8')

    a.lifecycle.phase = 'stopping'
    expect((await get('/readyz')).json()).toEqual({ status: 'stopping', now: 1500 })
    expect((await get('/readyz')).statusCode).toBe(503)
    expect((await get('/healthz')).statusCode).toBe(200)
  })
})

describe('overload', () => {
  it('answers 503 with Retry-After instead of queueing, /metrics included, except /healthz', async () => {
    const a = await open({ maxEventLoopDelayMs: 20 })
    expect((await a.server.inject({ url: SLEEP })).statusCode).toBe(200)
    // The delay is sampled twice a second, and not held against requests in the first second
    // after the process became ready: stall the loop across samples until it counts.
    const overloaded = () =>
      a.server.isUnderPressure() &&
      Number.isFinite(a.server.memoryUsage().eventLoopDelay) &&
      a.lifecycle.readyFor() > 1000
    const deadline = Date.now() + 10_000
    while (!overloaded() && Date.now() < deadline) {
      block(300)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(overloaded()).toBe(true)

    const read = await a.server.inject({ url: SLEEP, headers: JSON_ACCEPT })
    expect(read.statusCode).toBe(503)
    expect(read.headers['retry-after']).toBe('5')
    expect(read.json()).toMatchObject({ code: 'EAGAIN' })
    expect(read.json().detail).toMatch(/^overloaded \(event-loop delay \d+ ms\); retry later$/)
    expect((await a.server.inject({ url: '/readyz' })).statusCode).toBe(503)
    expect((await a.server.inject({ url: '/healthz' })).statusCode).toBe(200)
    expect((await a.server.inject({ url: '/metrics' })).statusCode).toBe(503)
  })
})

describe('write rate limit', () => {
  it('limits writes per client with 429 EAGAIN, never reads', async () => {
    const a = await open({ writeRateLimit: 3 })
    const write = () =>
      a.server.inject({ method: 'PUT', url: SLEEP, payload: '30', headers: JSON_ACCEPT })
    for (let i = 0; i < 3; i++) expect((await write()).statusCode).toBe(200)
    const limited = await write()
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({ code: 'EAGAIN', errno: 11 })
    expect(limited.json().detail).toMatch(
      /^more than 3 writes or stream connections a minute from this address; retry in /,
    )
    expect(limited.headers['retry-after']).toBeDefined()
    for (let i = 0; i < 10; i++)
      expect((await a.server.inject({ url: SLEEP })).statusCode).toBe(200)
  })

  it('limits websocket upgrades too', async () => {
    const a = await open({ writeRateLimit: 1 })
    const upgrade = () =>
      a.server.inject({
        url: '/events',
        headers: { connection: 'upgrade', upgrade: 'websocket', ...JSON_ACCEPT },
      })
    expect((await upgrade()).statusCode).not.toBe(429)
    expect((await upgrade()).statusCode).toBe(429)
  })
})

describe('security headers and limits', () => {
  it('keeps the dashboard working over plain HTTP on any hostname', async () => {
    const a = await open()
    const r = await a.server.inject({ url: '/healthz', headers: { host: 'kscand.example:8080' } })
    const csp = r.headers['content-security-policy'] as string
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('upgrade-insecure-requests')
    expect(r.headers['strict-transport-security']).toBeUndefined()
    expect(r.headers['cross-origin-opener-policy']).toBeUndefined()
    expect(r.headers['x-content-type-options']).toBe('nosniff')
  })

  it('refuses bodies over the limit with 413', async () => {
    const a = await open()
    const r = await a.server.inject({
      method: 'PUT',
      url: SLEEP,
      payload: '1'.repeat(64 * 1024),
      headers: JSON_ACCEPT,
    })
    expect(r.statusCode).toBe(413)
    expect(r.json()).toMatchObject({ code: 'E2BIG' })
  })
})
