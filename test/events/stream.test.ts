/**
 * GET /events with real websocket clients on 127.0.0.1: snapshot then stream, continuity,
 * resume, reset/4410, exact loss accounting for a client that stops reading, filters, the
 * text format, and the handshake checks (426, 400, Origin, read token, subscriber limit).
 */
import http from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { traceLine } from '../../src/events/format.ts'
import { PROTOCOL } from '../../src/events/protocol.ts'
import { TOKEN_PROTOCOL } from '../../src/http/auth.ts'
import { EVENTS, formatEvent, type TraceEvent } from '../../src/kernel/trace.ts'
import { Client, type Msg, pump, type Served, serve, until } from '../helpers/events.ts'

const events = (c: Client) => c.of('batch').flatMap((b) => b.events as Msg[])

describe('the stream', () => {
  let s: Served
  let captured: TraceEvent[]
  beforeEach(async () => {
    s = await serve()
    captured = []
    // What the kernel emitted of the events the stream's subscriptions select, independently
    // of the hub, to compare the stream with.
    s.kernel.tracer.subscribe((e) => captured.push(e), s.hub.selected)
  })
  afterEach(() => s.close())

  /** The captured event with this seq (the hub subscribed first, so seq n is captured[n - 1]). */
  const emitted = (seq: number) => captured[seq - 1]

  it('sends the snapshot first, then batches starting right after its position', async () => {
    const c = await Client.open(s.url)
    const snap = await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    expect(c.msgs[0]).toBe(snap)
    expect(snap.epoch).toBe(s.hub.ring.epoch)
    expect(snap.seq).toBe(s.hub.ring.last)
    expect(snap.now).toBe(s.kernel.now)
    expect(snap.threads.map((t: Msg) => t.name)).toEqual([
      'kscand',
      'kmigrated',
      'kswapd0',
      'kswapd1',
    ])
    expect(snap.processes.map((p: Msg) => p.comm)).toEqual(['memcached', 'gups', 'backup'])
    expect(snap.tunables['/sys/kernel/mm/kscand/scan_sleep_ms']).toBe(20)
    expect(snap.counters).toEqual(s.kernel.vmstat.snapshot())
    expect(snap.tracing.on).toBe(true)
    expect(snap.subscription).toEqual({
      events: EVENTS.map((e) => `${e.system}:${e.name}`),
      pids: null,
      format: 'json',
      batch_ms: 50,
    })
    await pump(s, 5000, [c])
    const first = c.of('batch')[0]
    expect(first.from_seq).toBe(snap.seq + 1)
    expect(first.events[0].seq).toBe(snap.seq + 1)
  })

  it('delivers 100 000 events in sequence, each as the kernel emitted it', async () => {
    const c = await Client.open(s.url)
    const snap = await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    await pump(s, 100_000, [c])
    let next = snap.seq + 1
    for (const b of c.of('batch')) {
      expect(b.from_seq).toBe(next)
      for (const e of b.events) expect(e.seq).toBe(next++)
      expect(b.to_seq).toBe(next - 1)
    }
    expect(next - 1 - snap.seq).toBeGreaterThanOrEqual(100_000)
    expect(next - 1).toBe(s.hub.ring.last)
    expect(c.of('lost')).toEqual([])
    for (const e of events(c)) {
      const k = emitted(e.seq)
      const decl = EVENTS[k.id]
      expect(e.event).toBe(`${decl.system}:${decl.name}`)
      expect([e.ts, e.pid, e.comm]).toEqual([k.ts, k.pid, k.comm])
    }
    // Field values, through the declared printk format of each event.
    for (const e of events(c).slice(0, 5000)) {
      const k = emitted(e.seq)
      const decl = EVENTS[k.id]
      const args = decl.fields.map((f) =>
        f.type === 'ptr' ? Number.parseInt(e.fields[f.name], 16) : e.fields[f.name],
      )
      expect(formatEvent({ ...k, args })).toBe(formatEvent(k))
    }
  })

  it('resumes after a disconnect with no gap and no duplicate (URL and message)', async () => {
    const a = await Client.open(s.url)
    await a.waitFor((m) => m.type === 'snapshot', 'snapshot')
    await pump(s, 20_000, [a])
    const at = a.position()
    // Another subscriber with the same selection keeps the events recorded meanwhile.
    const keeper = await Client.open(`${s.url}?format=text`)
    await keeper.waitFor((m) => m.type === 'snapshot', 'snapshot')
    a.ws.close()
    await a.closed
    // Events happen while a is away.
    await pump(s, 30_000, [keeper])
    const b = await Client.open(`${s.url}?since=${at}&epoch=${s.hub.ring.epoch}`)
    const sub = await b.waitFor((m) => m.type === 'subscribed', 'subscribed')
    expect(b.msgs[0]).toBe(sub)
    expect(sub.seq).toBe(at)
    expect(b.of('snapshot')).toEqual([])
    s.hub.flush()
    await until(() => b.position() >= s.hub.ring.last, 'replay')
    await pump(s, 10_000, [b])
    const seqs = [...events(a), ...events(b)].map((e) => e.seq)
    seqs.forEach((q, i) => {
      expect(q).toBe(seqs[0] + i)
    })
    expect(seqs.at(-1)).toBe(s.hub.ring.last)

    // Resuming by message: the stream restarts after the position given.
    const c = await Client.open(s.url)
    await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    const from = s.hub.ring.last - 12_345
    c.send({ type: 'subscribe', since: { epoch: s.hub.ring.epoch, seq: from } })
    const ack = await c.waitFor((m) => m.type === 'subscribed', 'subscribed')
    expect(ack.seq).toBe(from)
    s.hub.flush()
    await until(() => c.position() >= s.hub.ring.last, 'replay by message')
    const after = c.msgs.slice(c.msgs.indexOf(ack) + 1).filter((m) => m.type === 'batch')
    const replayed = after.flatMap((m) => m.events.map((e: Msg) => e.seq))
    expect(replayed).toEqual(Array.from({ length: 12_345 }, (_, i) => from + 1 + i))
  })

  it('replays a long gap at the pace of a slow reader, without loss', async () => {
    await s.close()
    s = await serve({ hub: { highWaterBytes: 64 * 1024, ringCapacity: 500_000 } })
    const a = await Client.open(s.url)
    const snap = await a.waitFor((m) => m.type === 'snapshot', 'snapshot')
    // Another subscriber, in a group of its own (text), keeps every event recorded meanwhile.
    const keeper = await Client.open(`${s.url}?format=text`)
    await keeper.waitFor((m) => m.type === 'snapshot', 'snapshot')
    a.ws.close()
    // Nobody left in a's group: the resumed client starts a group of its own.
    await until(() => s.hub.members.size === 1, 'a to leave')
    await pump(s, 400_000, [keeper])
    // About 50 MB of JSON to replay: more than loopback buffers hold (32 MB receive buffer
    // here), against a 64 KiB high-water mark, while the reader pauses.
    const b = await Client.open(`${s.url}?since=${snap.seq}&epoch=${snap.epoch}`)
    b.ws.pause()
    await new Promise((r) => setTimeout(r, 500))
    b.ws.resume()
    s.hub.flush()
    await until(() => b.position() >= s.hub.ring.last, 'the replay')
    expect(b.of('lost')).toEqual([])
    expect(events(b).map((e) => e.seq)).toEqual(range(snap.seq + 1, s.hub.ring.last))
  })

  it('sends reset and closes 4410 for a position the ring no longer holds or another epoch', async () => {
    const old = await Client.open(s.url)
    const snap = await old.waitFor((m) => m.type === 'snapshot', 'snapshot')
    // Another subscriber keeps the events recorded, so that the ring overwrites old's.
    const keeper = await Client.open(`${s.url}?format=text`)
    await keeper.waitFor((m) => m.type === 'snapshot', 'snapshot')
    old.ws.close()
    await pump(s, s.hub.ring.capacity + 10, [keeper])
    const c = await Client.open(`${s.url}?since=${snap.seq}&epoch=${snap.epoch}`)
    expect(await c.closed).toEqual({ code: 4410, reason: 'expired' })
    expect(c.msgs).toEqual([
      {
        type: 'reset',
        reason: 'expired',
        epoch: s.hub.ring.epoch,
        seq: s.hub.ring.last,
        message: 'the position is older than the ring holds',
      },
    ])
    const d = await Client.open(`${s.url}?since=0&epoch=0123456789abcdef`)
    expect((await d.closed).code).toBe(4410)
    expect(d.msgs.map((m) => [m.type, m.reason])).toEqual([['reset', 'epoch-changed']])
    // A position the ring has just reached is fine; one it has not reached is a bad request.
    const e = await Client.open(`${s.url}?since=${s.hub.ring.last}&epoch=${snap.epoch}`)
    await e.waitFor((m) => m.type === 'subscribed', 'subscribed')
    const f = await Client.open(`${s.url}?since=${s.hub.ring.last + 1}&epoch=${snap.epoch}`)
    expect((await f.closed).code).toBe(4400)
    expect(f.msgs.map((m) => m.code)).toEqual(['bad_since'])
    // By message: too old resets, the future is an error that changes nothing.
    e.send({ type: 'subscribe', since: { epoch: snap.epoch, seq: s.hub.ring.last + 5 } })
    await e.waitFor((m) => m.type === 'error', 'error')
    expect(e.code).toBe(null)
    e.send({ type: 'subscribe', since: { epoch: snap.epoch, seq: snap.seq } })
    expect((await e.closed).code).toBe(4410)
  })

  it('filters by event glob and pid, sharing one serialization per filter', async () => {
    const url = `${s.url}?events=kmem:kmem_scan_mm_e*,kthread_wake&pids=1001,91`
    const c1 = await Client.open(url)
    const c2 = await Client.open(url)
    // Scans are due only every few virtual seconds: leave out the high-rate events.
    const all = await Client.open(
      `${s.url}?events=kmem_mm_*,kmem_scan_mm_end,kthread:*,sched:*,migrate:*,sysfs:*`,
    )
    const snap = await c1.waitFor((m) => m.type === 'snapshot', 'snapshot')
    expect(snap.subscription.events).toEqual(['kmem:kmem_scan_mm_end', 'kthread:kthread_wake'])
    expect(snap.subscription.pids).toEqual([91, 1001])
    await pump(s, 2000, [all])
    const ring = s.hub.ring
    const expected: number[] = []
    for (let q = snap.seq + 1; q <= ring.last; q++) {
      const name = EVENTS[ring.id(q)].name
      const wanted = name === 'kmem_scan_mm_end' || name === 'kthread_wake'
      if (wanted && [91, 1001].some((p) => p === ring.pid(q) || p === ring.owner(q)))
        expected.push(q)
    }
    // Both wanted kinds occur, and the pid filter removed some of them.
    expect(new Set(expected.map((q) => ring.id(q))).size).toBe(2)
    expect(expected.some((q) => ring.owner(q) === 1001 && ring.pid(q) === 90)).toBe(true)
    await until(
      () => events(c1).length >= expected.length && events(c2).length >= expected.length,
      'filtered events',
    )
    expect(events(c1).map((e) => e.seq)).toEqual(expected)
    // Same filter, same bytes: the two clients got identical batches.
    expect(c2.of('batch')).toEqual(c1.of('batch'))
    // Not a kmem_scan_mm_end of another process slipped in.
    const others = all.of('batch').flatMap((b) => b.events as Msg[])
    expect(others.filter((e) => e.event === 'kmem:kmem_scan_mm_end').length).toBeGreaterThan(
      events(c1).filter((e) => e.event === 'kmem:kmem_scan_mm_end').length,
    )
  })

  it('sends trace_pipe lines in text format, and a new subscription continues without gap', async () => {
    const c = await Client.open(`${s.url}?format=text`)
    const snap = await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    await pump(s, 3000, [c])
    const lines = c.of('batch').flatMap((b) => b.events as string[])
    expect(lines.length).toBe(s.hub.ring.last - snap.seq)
    lines.forEach((line, i) => {
      expect(line).toBe(traceLine(emitted(snap.seq + 1 + i)))
    })
    const at = c.position()
    c.send({ type: 'subscribe', events: ['kthread:*'], format: 'json' })
    const ack = await c.waitFor((m) => m.type === 'subscribed', 'subscribed')
    expect(ack.seq).toBe(at)
    expect(ack.subscription.events).toEqual(
      EVENTS.filter((e) => e.system === 'kthread').map((e) => `kthread:${e.name}`),
    )
    await pump(s, 30_000)
    const kthread = captured.flatMap((e, i) =>
      i + 1 > at && EVENTS[e.id].system === 'kthread' ? [i + 1] : [],
    )
    await until(() => events(c).length - lines.length >= kthread.length, 'kthread events')
    const json = c.msgs.slice(c.msgs.indexOf(ack)).filter((m) => m.type === 'batch')
    expect(json.flatMap((b) => b.events.map((e: Msg) => e.seq))).toEqual(kthread)
  })
})

describe('stats', () => {
  let s: Served
  afterEach(() => s.close())

  it('carries the threads and each process as GET /threads and /processes/PID show them', async () => {
    s = await serve({ hub: { statsMs: 30 } })
    const c = await Client.open(s.url)
    await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    // Past kscand's first scans, so that every mm has a scan state.
    await pump(s, 200_000, [c])
    const now = s.kernel.now
    const stats = await c.waitFor((m) => m.type === 'stats' && m.now === now, 'stats at the end')
    const get = async (url: string) =>
      (await s.server.inject({ url, headers: { accept: 'application/json' } })).json()
    expect(stats.threads).toEqual(await get('/threads'))
    expect(stats.processes.map((p: Msg) => p.comm)).toEqual(['memcached', 'gups', 'backup'])
    for (const { toptier_share, ...p } of stats.processes) {
      expect(p).toEqual(await get(`/processes/${p.pid}`))
      expect(p.scan.scan_period).toBeGreaterThan(0)
      expect(toptier_share).toBeGreaterThanOrEqual(0)
    }
  })

  it('carries the NUMA balancing mode and the hot threshold of each top-tier node', async () => {
    s = await serve({ hub: { statsMs: 30 } })
    const c = await Client.open(s.url)
    await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    const put = (url: string, payload: string) => s.server.inject({ method: 'PUT', url, payload })
    expect(
      (await put('/sys/kernel/debug/sched/numa_balancing/hot_threshold_ms', '500')).statusCode,
    ).toBe(200)
    expect((await put('/proc/sys/kernel/numa_balancing', '2')).statusCode).toBe(200)
    await pump(s, 1000, [c])
    const now = s.kernel.now
    const stats = await c.waitFor((m) => m.type === 'stats' && m.now === now, 'stats at the end')
    expect(stats.numa_balancing).toBe(2)
    // Nodes 0 and 1 are DRAM, node 2 CXL; within the first minute no threshold was adjusted.
    expect(stats.nodes.map((n: Msg) => n.hot_threshold_ms)).toEqual([500, 500, null])
  })
  it('continue the history of the snapshot: together, every second once, as GET /sim/history', async () => {
    s = await serve({ hub: { statsMs: 30 } })
    s.kernel.run(5000)
    // Few events a second, so the ring still holds the resume position below (every event,
    // kmem_scan_mm_start's flood included, would wrap it: the resume would be `expired`).
    const few = 'events=kmem:kmem_scan_mm_end'
    const c = await Client.open(`${s.url}?${few}`)
    const snap = await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    // A page opened at t = 5 s has the first five seconds at once.
    expect(snap.history.time_s).toEqual([1, 2, 3, 4, 5])
    expect(snap.history.processes.map((p: Msg) => p.comm)).toEqual(['memcached', 'gups', 'backup'])
    for (let i = 0; i < 5; i++) {
      s.kernel.run(s.kernel.now + 1000)
      const now = s.kernel.now
      await c.waitFor((m) => m.type === 'stats' && m.now === now, `stats at ${now}`)
    }
    // What the page keeps: the snapshot, then each stats' samples newer than it has.
    const seconds: number[] = [...snap.history.time_s]
    const promoted: number[] = [...snap.history.rates.pgpromote_success]
    for (const stats of c.of('stats')) {
      stats.history.time_s.forEach((t: number, i: number) => {
        if (t <= (seconds.at(-1) ?? 0)) return
        seconds.push(t)
        promoted.push(stats.history.rates.pgpromote_success[i])
      })
    }
    const full = (
      await s.server.inject({ url: '/sim/history', headers: { accept: 'application/json' } })
    ).json()
    expect(seconds).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
    expect(promoted).toEqual(full.rates.pgpromote_success)
    // A client that resumes after a disconnect has a hole where it was away: its first stats
    // carries the whole history.
    const resumed = await Client.open(`${s.url}?${few}&since=${c.position()}&epoch=${snap.epoch}`)
    await resumed.waitFor((m) => m.type === 'subscribed', 'subscribed')
    s.kernel.run(s.kernel.now + 1000)
    const at = s.kernel.now
    const first = await resumed.waitFor((m) => m.type === 'stats', 'stats after the resume')
    expect(first.history.time_s).toEqual(Array.from({ length: first.now / 1000 }, (_, i) => i + 1))
    // The client that stayed gets the new second alone.
    const latest = await c.waitFor((m) => m.type === 'stats' && m.now === at, `stats at ${at}`)
    expect(latest.history.time_s).toEqual([at / 1000])
    // Stats while time stands still bring no samples.
    const quiet = c.of('stats').length
    await c.waitFor((m) => m.type === 'stats' && c.of('stats').indexOf(m) > quiet, 'stats')
    expect(c.of('stats').at(-1)?.history.time_s).toEqual([])
  })
})

describe('a client that stops reading', () => {
  let s: Served
  afterEach(() => s.close())

  it('is counted, told what it lost, and delivered + lost == produced exactly', async () => {
    s = await serve({ hub: { highWaterBytes: 256 * 1024 } })
    const slow = await Client.open(s.url)
    const fast = await Client.open(s.url)
    const snap = await slow.waitFor((m) => m.type === 'snapshot', 'snapshot')
    slow.ws.pause()
    // Tens of MB: more than loopback buffers and the high-water mark can take.
    await pump(s, 400_000, [fast])
    const [member] = [...s.hub.members].filter((m) => m.lostTotal > 0)
    expect(member.peer.bufferedAmount).toBeLessThan(256 * 1024 + 128 * 1024)
    slow.ws.resume()
    await pump(s, 20_000, [fast])
    const produced = s.hub.ring.last - snap.seq
    const accounted = () => events(slow).length + slow.of('lost').reduce((n, m) => n + m.count, 0)
    await until(() => accounted() >= produced, 'the slow client to be accounted for')
    const lost = slow.of('lost')
    expect(lost.length).toBeGreaterThan(0)
    expect(accounted()).toBe(produced)
    // Batches and lost ranges tile the positions exactly, in order.
    let next = snap.seq + 1
    for (const m of slow.msgs.filter((x) => x.type === 'batch' || x.type === 'lost')) {
      expect(m.from_seq).toBe(next)
      if (m.type === 'batch')
        expect(m.events.map((e: Msg) => e.seq)).toEqual(range(m.from_seq, m.to_seq))
      else expect(m.count).toBe(m.to_seq - m.from_seq + 1)
      next = m.to_seq + 1
    }
    expect(next - 1).toBe(s.hub.ring.last)
    // The other client lost nothing.
    expect(fast.of('lost')).toEqual([])
    expect(events(fast).length).toBe(produced)
    // /metrics (kscand_sim_events_*) reports what the clients saw.
    const both = [slow, fast]
    expect(s.hub.stats()).toEqual({
      subscribers: 2,
      batches: both.reduce((n, c) => n + c.of('batch').length, 0),
      events: both.reduce((n, c) => n + events(c).length, 0),
      lost: lost.reduce((n, m) => n + m.count, 0),
      disconnects: {},
    })
  })

  it('is closed with 1013 when it stays stuck', async () => {
    s = await serve({ hub: { highWaterBytes: 64 * 1024, stuckMs: 100 } })
    const stuck = await Client.open(s.url)
    await stuck.waitFor((m) => m.type === 'snapshot', 'snapshot')
    // A reader that keeps up keeps the events generated once the stuck one is dropped.
    const reader = await Client.open(`${s.url}?format=text`)
    await reader.waitFor((m) => m.type === 'snapshot', 'snapshot')
    stuck.ws.pause()
    await pump(s, 200_000, [reader])
    await until(() => s.hub.members.size === 1, 'the stuck client to be dropped')
    stuck.ws.resume()
    expect((await stuck.closed).code).toBe(1013)
    expect(s.hub.stats().disconnects).toEqual({ slow: 1 })
  })
})

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i)

describe('the handshake', () => {
  let s: Served
  afterEach(() => s.close())

  it('answers a plain GET with 426 and a bad URL subscription with 400', async () => {
    s = await serve()
    const r = await s.server.inject({ url: '/events' })
    expect(r.statusCode).toBe(426)
    expect(r.headers.upgrade).toBe('websocket')
    for (const q of [
      'since=-1&epoch=x',
      'since=3',
      'events=kmem:nosuch',
      'events=a%20b',
      'batch_ms=10',
      'format=xml',
      'pids=-1',
      'token=x',
    ]) {
      await expect(Client.open(`${s.url}?${q}`), q).rejects.toThrow(
        'Unexpected server response: 400',
      )
    }
  })

  it('checks the Origin and lets listed and same origins in', async () => {
    s = await serve({ allowedOrigins: ['https://dash.example'] })
    await expect(Client.open(s.url, { origin: 'https://evil.example' })).rejects.toThrow('403')
    const same = await Client.open(s.url, { origin: `http://127.0.0.1:${s.port}` })
    const listed = await Client.open(s.url, { origin: 'https://dash.example' })
    await same.waitFor((m) => m.type === 'snapshot', 'snapshot')
    await listed.waitFor((m) => m.type === 'snapshot', 'snapshot')
  })

  it('takes the read token as a subprotocol when one is configured', async () => {
    s = await serve({ readToken: 'sekret' })
    await expect(Client.open(s.url)).rejects.toThrow('401')
    const wrong = `${TOKEN_PROTOCOL}${Buffer.from('nope').toString('base64url')}`
    await expect(Client.open(s.url, {}, [PROTOCOL, wrong])).rejects.toThrow('401')
    const right = `${TOKEN_PROTOCOL}${Buffer.from('sekret').toString('base64url')}`
    const c = await Client.open(s.url, {}, [PROTOCOL, right])
    expect(c.ws.protocol).toBe(PROTOCOL)
    await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
  })

  it('sends heartbeats carrying the position, and cuts a peer that does not answer pings', async () => {
    // Pings a second apart: a loaded test machine must not make the live peer look dead.
    s = await serve({ hub: { heartbeatMs: 20, pingMs: 1000 } })
    const live = await Client.open(s.url)
    const dead = new Client(new WebSocket(s.url, { autoPong: false }))
    await new Promise((resolve) => dead.ws.once('open', resolve))
    await pump(s, 5000, [live])
    const at = live.position()
    const beat = await live.waitFor((m) => m.type === 'heartbeat' && m.seq === at, 'a heartbeat')
    expect(beat).toEqual({ type: 'heartbeat', epoch: s.hub.ring.epoch, seq: at, now: s.kernel.now })
    // The peer that never pongs is terminated (1006 on its side); the other stays.
    expect((await dead.closed).code).toBe(1006)
    await until(() => s.hub.members.size === 1, 'the dead peer to be dropped')
    expect(live.code).toBe(null)
    expect(s.hub.stats().disconnects).toEqual({ unresponsive: 1 })
  })

  it('closes subscribers with 1001 and ends trace_pipe when the server shuts down', async () => {
    s = await serve()
    const c = await Client.open(s.url)
    await c.waitFor((m) => m.type === 'snapshot', 'snapshot')
    const ended = new Promise<string>((resolve) =>
      http.get(`http://127.0.0.1:${s.port}/sys/kernel/tracing/trace_pipe`, (res) => {
        let body = ''
        res.on('data', (d) => {
          body += d
        })
        res.on('end', () => resolve(body))
      }),
    )
    await until(() => s.hub.pipeReaders === 1, 'the trace_pipe reader')
    const hub = s.hub
    await s.close()
    expect(await c.closed).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(hub.stats().disconnects).toEqual({ shutdown: 1 })
    expect(typeof (await ended)).toBe('string')
    s = await serve()
  })

  it('closes with 1013 beyond the subscriber limit', async () => {
    s = await serve({ hub: { maxSubscribers: 2 } })
    const a = await Client.open(s.url)
    const b = await Client.open(s.url)
    const c = await Client.open(s.url)
    expect(await c.closed).toEqual({ code: 1013, reason: 'too many subscribers' })
    a.ws.close()
    await until(() => s.hub.members.size === 1, 'a to leave')
    const d = await Client.open(s.url)
    await d.waitFor((m) => m.type === 'snapshot', 'snapshot')
    expect(b.code).toBe(null)
  })
})
