/**
 * Thousands of generated frames at GET /events, over real sockets, while a well-behaved
 * subscriber watches the stream: every frame gets its answer (an error, `subscribed`, or
 * `reset` + 4410) or a documented close code, the server never crashes, and the watching
 * subscriber sees an unbroken stream with nothing lost.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_CLIENT_FRAME, MESSAGE_BURST } from '../../src/events/protocol.ts'
import { Client, type Msg, pump, type Served, serve, until } from '../helpers/events.ts'

type Frame = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array }

let s: Served
let watcher: Client

beforeAll(async () => {
  s = await serve()
  watcher = await Client.open(s.url)
  await watcher.waitFor((m) => m.type === 'snapshot', 'snapshot')
})
afterAll(() => s.close())

const epochs = () => fc.constantFrom(s.hub.ring.epoch, '0123456789abcdef', '', 'x'.repeat(65))
const seqs = () =>
  fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.constantFrom(s.hub.ring.last, s.hub.ring.first, 1.5, Number.MAX_SAFE_INTEGER + 2),
  )
const globs = fc.oneof(
  fc.constantFrom('*', 'kmem:*', 'kthread_s*', '*:kmem_scan_mm_?nd', 'kmem:nosuch', 'a b', ''),
  fc.string({ maxLength: 70 }),
)
/** Subscribe messages that are well-formed, bar what the server must judge (globs, since). */
const validSubscribe = () =>
  fc.record(
    {
      type: fc.constant('subscribe'),
      events: fc.array(
        fc.constantFrom(
          '*',
          'kmem:*',
          'kthread_s*',
          '*:kmem_scan_mm_?nd',
          'sysfs:*',
          'kmem:nosuch',
        ),
        { minLength: 1, maxLength: 4 },
      ),
      pids: fc.array(fc.nat(2000), { minLength: 1, maxLength: 4 }),
      since: fc.record({
        epoch: fc.constantFrom(s.hub.ring.epoch, '0123456789abcdef'),
        seq: fc.oneof(fc.constantFrom(s.hub.ring.last, s.hub.ring.first), fc.nat(2 ** 31)),
      }),
      format: fc.constantFrom('json', 'text'),
      batch_ms: fc.integer({ min: 50, max: 1000 }),
    },
    { requiredKeys: ['type'] },
  )
/** Subscribe messages with anything in their fields. */
const wildSubscribe = () =>
  fc.record(
    {
      type: fc.constant('subscribe'),
      events: fc.array(globs, { maxLength: 40 }),
      pids: fc.array(fc.oneof(fc.nat(5000), fc.integer()), { maxLength: 70 }),
      since: fc.oneof(fc.record({ epoch: epochs(), seq: seqs() }), fc.anything()),
      format: fc.constantFrom('json', 'text', 'xml', 1),
      batch_ms: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constant('50')),
      extra: fc.anything(),
    },
    { requiredKeys: ['type'] },
  )
const frame = (): fc.Arbitrary<Frame> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .oneof(validSubscribe(), wildSubscribe())
        .map((m) => ({ kind: 'text' as const, data: JSON.stringify(m) })),
    },
    {
      weight: 2,
      arbitrary: fc.jsonValue().map((v) => ({ kind: 'text' as const, data: JSON.stringify(v) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ type: fc.string({ maxLength: 50 }) }, { requiredKeys: [] })
        .map((m) => ({ kind: 'text' as const, data: JSON.stringify(m) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: 'binary', maxLength: 200 })
        .map((d) => ({ kind: 'text' as const, data: d })),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 300 })
        .map((d) => ({ kind: 'binary' as const, data: d })),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: MAX_CLIENT_FRAME + 1, max: 2 * MAX_CLIENT_FRAME })
        .map((n) => ({ kind: 'text' as const, data: `"${'x'.repeat(n)}"` })),
    },
  )

const ANSWERS = new Set(['error', 'subscribed', 'reset'])
const isJsonText = (d: string) => {
  try {
    JSON.parse(d)
    return true
  } catch {
    return false
  }
}

describe('fuzzed client frames', () => {
  it('each get an answer or a documented close, and never disturb another subscriber', async () => {
    let frames = 0
    let runs = 0
    const outcomes = new Set<string>()
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame(), { minLength: 1, maxLength: MESSAGE_BURST }),
        async (sent) => {
          const c = await Client.open(s.url)
          for (const f of sent) c.ws.send(f.data, { binary: f.kind === 'binary' })
          frames += sent.length
          const answers = () => c.msgs.filter((m) => ANSWERS.has(m.type))
          await until(() => answers().length >= sent.length || c.code !== null, 'answers')
          if (c.code === null) {
            c.ws.close()
            await c.closed
          }
          const got = answers()
          for (const m of got) outcomes.add(m.code ?? m.type)
          if (c.code !== 1005) outcomes.add(String(c.code))
          got.forEach((m: Msg, i) => {
            const f = sent[i]
            if (f.kind === 'binary')
              expect(m).toMatchObject({ type: 'error', code: 'binary_frame' })
            else if (!isJsonText(f.data))
              expect(m).toMatchObject({ type: 'error', code: 'bad_json' })
            else {
              const t = JSON.parse(f.data)?.type
              if (typeof t === 'string' && t !== 'subscribe') {
                expect(m).toMatchObject({ type: 'error', code: 'unknown_type' })
              } else if (m.type === 'error') {
                expect(['bad_message', 'bad_glob', 'bad_since']).toContain(m.code)
              }
            }
          })
          if (got.length < sent.length) {
            // Cut short: by a reset (4410) or by an oversized frame (1009), nothing else.
            const last = got.at(-1)
            if (last?.type === 'reset') expect(c.code).toBe(4410)
            else {
              expect(c.code).toBe(1009)
              expect(sent[got.length].data.length).toBeGreaterThan(MAX_CLIENT_FRAME)
            }
          } else expect([1005, 4410]).toContain(c.code)
          if (++runs % 10 === 0) await pump(s, 3000, [watcher])
        },
      ),
      { numRuns: 600 },
    )
    expect(frames).toBeGreaterThan(3000)
    // Every kind of answer and close came up.
    expect([...outcomes].sort()).toEqual(
      ['1009', '4410', 'bad_glob', 'bad_json', 'bad_message', 'bad_since', 'binary_frame']
        .concat(['reset', 'subscribed', 'unknown_type'])
        .sort(),
    )
    await pump(s, 3000, [watcher])
    // The watcher's stream is whole: consecutive batches, nothing lost.
    let next = watcher.msgs[0].seq + 1
    for (const b of watcher.of('batch')) {
      expect(b.from_seq).toBe(next)
      next = b.to_seq + 1
    }
    expect(next - 1).toBe(s.hub.ring.last)
    expect(watcher.of('lost')).toEqual([])
    expect(watcher.code).toBe(null)
    const r = await s.server.inject('/sys/kernel/mm/kscand/scan_sleep_ms')
    expect(r.statusCode).toBe(200)
  })

  it('closes a flood with 1008, persistent garbage with 4400, a huge frame with 1009', async () => {
    const before = s.hub.stats().disconnects
    const flood = await Client.open(s.url)
    for (let i = 0; i < 100; i++) flood.send({ type: 'subscribe', events: ['kmem:*'] })
    expect((await flood.closed).code).toBe(1008)
    expect(flood.of('subscribed').length).toBe(MESSAGE_BURST)

    const garbage = await Client.open(s.url)
    // Within the rate limit, more than the allowed number of rejected messages.
    for (let i = 0; i < MESSAGE_BURST; i++) garbage.send('{')
    await until(() => garbage.of('error').length === MESSAGE_BURST, 'errors')
    await new Promise((r) => setTimeout(r, 300))
    garbage.send('{')
    expect((await garbage.closed).code).toBe(4400)

    const huge = await Client.open(s.url)
    huge.send('x'.repeat(MAX_CLIENT_FRAME + 1))
    expect((await huge.closed).code).toBe(1009)
    expect(watcher.code).toBe(null)
    // Each counted under its reason in /metrics (kscand_sim_events_disconnects_total).
    await until(() => s.hub.members.size === 1, 'the server to drop them')
    const after = s.hub.stats().disconnects
    for (const reason of ['flood', 'bad_request', 'protocol_error'] as const) {
      expect((after[reason] ?? 0) - (before[reason] ?? 0), reason).toBe(1)
    }
  })
})
