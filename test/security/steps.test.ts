/**
 * Work that cannot be abandoned silently (issue 10, findings 5 and 6), on a real server: a
 * step whose client went away stops, steps queue in a bounded line (503 + Retry-After past
 * it), and SIGTERM during a step answers 503, not 200 with the step unfinished.
 */
import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { MAX_STEP_MS } from '../../src/schemas/sim.ts'
import { within } from '../helpers/process.ts'
import { AUTH, call, SLEEP, start } from './state-helpers.ts'

/** kscand waking every virtual ms makes an hour's step take seconds of wall time. */
async function slowServer(env: Record<string, string> = {}) {
  const s = await start(env)
  expect((await call(`${s.srv.url}${SLEEP}`, 'PUT', { value: 1 })).status).toBe(200)
  return s
}

/** A step request sent raw, so that its connection can be cut before the answer. */
function rawStep(port: number, ms: number) {
  const body = JSON.stringify({ ms })
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/sim/step',
    headers: { ...AUTH, 'content-type': 'application/json', 'content-length': body.length },
  })
  const answered = new Promise<number>((res, rej) => {
    req.once('response', (r) => {
      r.resume()
      res(r.statusCode ?? 0)
    })
    req.once('error', rej)
  })
  answered.catch(() => undefined)
  req.end(body)
  return { req, answered }
}

const now = async (url: string) => (await call(`${url}/sim`, 'GET')).body.now as number

describe('abandoned steps', () => {
  it('stops a step whose client disconnects, so the next step is answered at once', async () => {
    const { srv } = await slowServer()
    const long = rawStep(srv.port, MAX_STEP_MS)
    // The step is under way: the clock moves.
    const deadline = Date.now() + 10_000
    while ((await now(srv.url)) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(await now(srv.url)).toBeGreaterThan(0)
    long.req.destroy()

    const t = performance.now()
    const next = await within(5_000, call(`${srv.url}/sim/step`, 'POST', { ms: 1 }), 'next step')
    const waited = performance.now() - t
    expect(next.status).toBe(200)
    // Before, the abandoned hour ran to its end first (seconds here, minutes on big machines).
    expect(waited).toBeLessThan(2_000)
    expect(next.body.now).toBeLessThan(MAX_STEP_MS)
    // The audit line reaches us through the child's stdout pipe, a moment after the answer.
    const cancelled = /"path":"\/sim\/step".*\(cancelled\)/
    const logDeadline = Date.now() + 5_000
    while (!cancelled.test(srv.stdout()) && Date.now() < logDeadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(srv.stdout()).toMatch(cancelled)
  })

  it('queues at most STEP_QUEUE steps: the next gets 503 EAGAIN with Retry-After', async () => {
    const { srv } = await slowServer({ STEP_QUEUE: '2' })
    const first = rawStep(srv.port, MAX_STEP_MS)
    const second = rawStep(srv.port, MAX_STEP_MS)
    // Both are in line once the clock moves and a third is refused.
    let third = await call(`${srv.url}/sim/step`, 'POST', { ms: 1 })
    const deadline = Date.now() + 10_000
    while (third.status === 200 && Date.now() < deadline) {
      third = await call(`${srv.url}/sim/step`, 'POST', { ms: 1 })
    }
    expect(third.status).toBe(503)
    expect(third.headers.get('retry-after')).toBe('1')
    expect(third.body).toMatchObject({ code: 'EAGAIN', errno: 11 })
    expect(third.body.detail).toMatch(/^steps queued \(STEP_QUEUE\): 2 already running/)
    // Reads and other writes are not held up by the line of steps.
    expect((await call(`${srv.url}${SLEEP}`, 'PUT', { value: 30 })).status).toBe(200)
    first.req.destroy()
    second.req.destroy()
    await within(5_000, call(`${srv.url}/sim/step`, 'POST', { ms: 1 }), 'a step after both')
  })
})

describe('SIGTERM during a step', () => {
  it('answers the step 503 EAGAIN saying where it stopped, then exits 0', async () => {
    const { srv } = await slowServer()
    const pending = call(`${srv.url}/sim/step`, 'POST', { ms: MAX_STEP_MS })
    const deadline = Date.now() + 10_000
    while ((await now(srv.url)) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    srv.child.kill('SIGTERM')
    const step = await within(10_000, pending, 'the step answer')
    expect(step.status).toBe(503)
    expect(step.body).toMatchObject({ code: 'EAGAIN' })
    expect(step.body.detail).toMatch(
      new RegExp(`^the daemon is shutting down: the step stopped at \\d+ ms of ${MAX_STEP_MS}$`),
    )
    expect(await within(10_000, srv.exited, 'exit')).toEqual({ code: 0, signal: null })
  })
})
