/**
 * Issue 10, finding 1, against the real server on 127.0.0.1: the globs that froze the
 * daemon for 68.5 s (`G=$(printf '***?%.0s' $(seq 16))`, 31 of them in `?events=`; two in a
 * websocket `subscribe`) are answered in milliseconds while /healthz answers; and 10 000
 * generated globs and subscribe messages find no slow request.
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { MAX_GLOBS } from '../../src/events/protocol.ts'
import { realServer, send } from './helpers.ts'

// Plain GETs of /events count against the rate limit, and the fuzz sends thousands.
const server = realServer({ WRITE_RATE_LIMIT: '0', MAX_STREAMS_PER_ADDRESS: '64' })
const port = () => server().port

const G = '***?'.repeat(16)
/** The slowest request of each kind, for the report (printed after the file). */
const slowest: Record<string, number> = {}
const record = (what: string, ms: number) => {
  slowest[what] = Math.max(slowest[what] ?? 0, ms)
}
afterAll(() => {
  const lines = Object.entries(slowest).map(([k, v]) => `  ${k}: ${v.toFixed(1)} ms`)
  process.stdout.write(`slowest requests:\n${lines.join('\n')}\n`)
})

/** An open stream; `ask` sends one frame and resolves with the next message. */
async function stream(): Promise<{ ask(frame: string): Promise<string>; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port()}/events?events=kthread_wake`, ['kscand-sim.v1'])
  const queue: string[] = []
  let waiting: ((m: string) => void) | null = null
  ws.on('message', (d) => {
    const m = String(d)
    if (['snapshot', 'stats', 'heartbeat'].includes(JSON.parse(m).type)) return
    if (waiting) {
      const w = waiting
      waiting = null
      w(m)
    } else queue.push(m)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return {
    ask: (frame) =>
      new Promise((resolve) => {
        queue.length = 0
        waiting = resolve
        ws.send(frame)
      }),
    close: () => ws.close(),
  }
}

describe('the globs of issue 10', () => {
  it('GET /events with 31 of them answers at once, and /healthz meanwhile', async () => {
    const events = Array(31).fill(G).join(',')
    const [redos, health] = await Promise.all([
      send(port(), 'GET', `/events?events=${encodeURIComponent(events)}`),
      send(port(), 'GET', '/healthz'),
    ])
    record('GET /events with 31 worst globs', redos.ms)
    record('GET /healthz beside it', health.ms)
    expect(redos.status).toBe(426)
    expect(health.status).toBe(200)
    expect(redos.ms).toBeLessThan(1000)
    expect(health.ms).toBeLessThan(1000)
  })

  it('a subscribe with two of them answers at once', async () => {
    const s = await stream()
    const start = performance.now()
    const answer = JSON.parse(await s.ask(JSON.stringify({ type: 'subscribe', events: [G, G] })))
    const ms = performance.now() - start
    const health = await send(port(), 'GET', '/healthz')
    s.close()
    record('subscribe with 2 worst globs', ms)
    expect(answer.type).toBe('subscribed')
    expect(ms).toBeLessThan(1000)
    expect(health.ms).toBeLessThan(1000)
  })
})

/** Globs from the characters that matter: wildcards, the names' letters, and a colon. */
const glob = fc.oneof(
  fc.string({
    unit: fc.constantFrom('*', '?', 'k', 'm', 'e', '_', 's', 'n', 'd', ':'),
    minLength: 1,
    maxLength: 64,
  }),
  fc.constantFrom(G, `${G}x`, `*:${'*?'.repeat(31)}`, 'kmem:*', '*'),
)
const globs = fc.array(glob, { minLength: 1, maxLength: MAX_GLOBS })

describe('10 000 generated globs and subscribe messages', () => {
  it('in GET /events?events=…: none is slow', async () => {
    const samples = fc.sample(globs, { numRuns: 8000, seed: 10 })
    for (const g of samples) {
      const a = await send(port(), 'GET', `/events?events=${encodeURIComponent(g.join(','))}`)
      record('fuzzed GET /events', a.ms)
      expect([400, 426]).toContain(a.status)
      expect(a.ms).toBeLessThan(1000)
    }
  })

  it('in subscribe messages: none is slow', async () => {
    const samples = fc.sample(globs, { numRuns: 2000, seed: 11 })
    // 16 messages a connection: within the burst a client may send before it is throttled.
    for (let i = 0; i < samples.length; i += 16) {
      const s = await stream()
      for (const g of samples.slice(i, i + 16)) {
        const start = performance.now()
        const answer = JSON.parse(await s.ask(JSON.stringify({ type: 'subscribe', events: g })))
        const ms = performance.now() - start
        record('fuzzed subscribe', ms)
        expect(['subscribed', 'error']).toContain(answer.type)
        expect(ms).toBeLessThan(1000)
      }
      s.close()
    }
  })
})
