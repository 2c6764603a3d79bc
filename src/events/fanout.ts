/**
 * Fan-out: websocket subscribers grouped by filter, each group's batches serialized once and
 * sent to every member, with exact accounting. Every subscriber has a position `seen`: each
 * event up to it was sent, reported in a `lost` message, or did not pass the filter. A
 * subscriber that stops reading is not queued for beyond the high-water mark: the batches it
 * misses are counted and reported as `lost` once it drains, so per-client memory is bounded
 * whatever it does. Heartbeats, stats and pings go out from tend(), which the hub's clock runs.
 */
import { performance } from 'node:perf_hooks'
import type { Kernel } from '../kernel/kernel.ts'
import { EVENTS } from '../kernel/trace.ts'
import { historyJson } from '../views/history.ts'
import { ByteWriter } from './bytes.ts'
import { type Filter, passes } from './filter.ts'
import { traceLine, writeEventJson } from './format.ts'
import { CLOSE, type Disconnect, type EventStreamStats } from './protocol.ts'
import { type EventRing, scratchEvent } from './ring.ts'
import { occupancy, StatsSampler, statsNodes, threads } from './state.ts'

export const MAX_BATCH_EVENTS = 1000
export const MAX_BATCH_BYTES = 64 * 1024
/** Events pending in the ring that trigger a flush before the batch interval ends. */
export const FLUSH_EVENTS = 1024
/** Bytes a catching-up subscriber is sent per pass before the loop is yielded. */
const CATCHUP_BYTES = 1 << 20

/** Frames are built once as bytes and sent to many peers, always as text frames. */
const TEXT = { binary: false }

const COMMA = 0x2c

/** What the hub needs of a websocket (ws's WebSocket has it). */
export interface Peer {
  readonly bufferedAmount: number
  send(data: Buffer | string, options: { binary: boolean }): void
  ping(): void
  close(code: number, reason: string): void
  terminate(): void
}

export interface Frame {
  readonly from: number
  readonly to: number
  readonly count: number
  readonly buf: Buffer
}

class Group {
  readonly members = new Set<Member>()
  flushedAt = performance.now()
  constructor(
    readonly filter: Filter,
    public seen: number,
  ) {}
}

export class Member {
  group: Group | null = null
  lostFrom = 0
  lostTo = 0
  /** Events in the pending (not yet reported) lost range. */
  lostCount = 0
  lostTotal = 0
  /** Wall ms since the peer has been above the high-water mark, or null. */
  stuckSince: number | null = null
  alive = true
  closed = false
  /** The newest history second the subscriber has (its snapshot's, then its last stats'). */
  historySent = Number.NEGATIVE_INFINITY
  constructor(
    readonly peer: Peer,
    public filter: Filter,
    /** Every event up to this seq is accounted for. */
    public seen: number,
  ) {}
}

export type SinceCheck = 'ok' | Gone | 'future'
/** Why a position is gone: overwritten, never recorded for the filter, or another epoch. */
export type Gone = 'expired' | 'not-recorded' | 'epoch-changed'

/** How a fan-out paces its subscribers (the hub's options, defaults applied). */
export interface FanOutLimits {
  readonly highWaterBytes: number
  readonly stuckMs: number
  readonly heartbeatMs: number
  readonly statsMs: number
  readonly pingMs: number
  readonly maxSubscribers: number
}

export abstract class FanOut {
  readonly members = new Set<Member>()
  readonly maxSubscribers: number
  private readonly highWater: number
  private readonly lowWater: number
  private readonly stuckMs: number
  private readonly heartbeatMs: number
  private readonly statsMs: number
  private readonly pingMs: number
  private readonly groups = new Map<string, Group>()
  private readonly scratch = scratchEvent()
  private readonly writer = new ByteWriter()
  private readonly sampler: StatsSampler
  /** Every group is flushed up to here. */
  protected flushedTo = 0
  /** The lowest position of any group. */
  protected minSeen = 0
  private lastHeartbeat = performance.now()
  private lastStats = performance.now()
  private lastPing = performance.now()
  // The figures of /metrics, over the hub's life.
  private readonly sent = { batches: 0, events: 0, lost: 0 }
  private readonly disconnects: Partial<Record<Disconnect, number>> = {}

  constructor(
    readonly kernel: Kernel,
    readonly ring: EventRing,
    limits: FanOutLimits,
  ) {
    this.highWater = limits.highWaterBytes
    this.lowWater = this.highWater / 4
    this.stuckMs = limits.stuckMs
    this.heartbeatMs = limits.heartbeatMs
    this.statsMs = limits.statsMs
    this.pingMs = limits.pingMs
    this.maxSubscribers = limits.maxSubscribers
    this.sampler = new StatsSampler(kernel)
  }

  /** Runs flushGroups(true) and the periodic work at the next turn of the event loop. */
  protected abstract flushSoon(): void

  /** The events some subscriber's filter selects changed (a group came or went). */
  protected abstract selectionChanged(): void

  /** 1 at every event some subscriber's filter selects: what the stream needs generated. */
  readonly selected = new Uint8Array(EVENTS.length)
  /**
   * Per event, the seq after which the ring holds every occurrence of it (it has been
   * selected ever since); Infinity while nobody selects it.
   */
  private readonly recordedSince = new Float64Array(EVENTS.length).fill(Infinity)

  private select(): void {
    this.selected.fill(0)
    for (const g of this.groups.values()) {
      const mask = g.filter.mask
      for (let i = 0; i < mask.length; i++) this.selected[i] |= mask[i]
    }
    for (let i = 0; i < this.selected.length; i++) {
      if (this.selected[i] === 0) this.recordedSince[i] = Infinity
      else if (this.recordedSince[i] === Infinity) this.recordedSince[i] = this.ring.last
    }
    this.selectionChanged()
  }

  /**
   * Whether a stream can resume after `seq` with `filter`: the ring must still hold what
   * follows, and have recorded every event the filter selects since then. An event nobody
   * selected for a while was not generated meanwhile, so a replay would have a silent gap:
   * that position is expired too.
   */
  checkSince(epoch: string, seq: number, filter: Filter): SinceCheck {
    if (epoch !== this.ring.epoch) return 'epoch-changed'
    if (seq > this.ring.last) return 'future'
    if (seq + 1 < this.ring.first) return 'expired'
    for (let i = 0; i < filter.mask.length; i++) {
      if (filter.mask[i] === 1 && !(this.recordedSince[i] <= seq)) return 'not-recorded'
    }
    return 'ok'
  }

  /**
   * Adds a subscriber positioned at `seen`; the caller has sent it what comes first. One that
   * got a snapshot has the history so far; one that resumes gets all of it in its first stats
   * (it has a hole where it was away).
   */
  add(peer: Peer, filter: Filter, seen: number, snapshotSent = true): Member {
    const m = new Member(peer, filter, seen)
    if (snapshotSent) m.historySent = this.kernel.history.newest ?? Number.NEGATIVE_INFINITY
    this.members.add(m)
    this.join(m, filter)
    return m
  }

  /** Moves a subscriber to another filter, optionally repositioned at `seen`. */
  change(m: Member, filter: Filter, seen = m.seen): void {
    this.leave(m)
    if (m.lostCount > 0) this.sendLost(m)
    m.seen = seen
    this.join(m, filter)
  }

  /** Forgets a subscriber whose connection ended; `why` labels the disconnect. */
  remove(m: Member, why: Disconnect = 'client'): void {
    if (m.closed) return
    m.closed = true
    this.leave(m)
    this.members.delete(m)
    this.disconnects[why] = (this.disconnects[why] ?? 0) + 1
  }

  /** Closes a subscriber for one of the hub's own reasons. */
  close(
    m: Member,
    how: { readonly code: number; readonly reason: Disconnect },
    text: string,
  ): void {
    this.remove(m, how.reason)
    m.peer.close(how.code, text)
  }

  /** Sends `reset` for a position that is gone and closes with 4410. */
  reset(m: Member, why: Gone): void {
    this.remove(m, CLOSE.gone.reason)
    this.resetPeer(m.peer, why)
  }

  resetPeer(peer: Peer, why: Gone): void {
    const message = {
      expired: 'the position is older than the ring holds',
      'not-recorded':
        'events the subscription selects were not recorded after the position (no ' +
        'subscriber selected them meanwhile, so they were not generated)',
      'epoch-changed': 'the position is from another epoch (the server restarted)',
    }[why]
    const reason = why === 'not-recorded' ? 'expired' : why
    const msg = { type: 'reset', reason, epoch: this.ring.epoch, seq: this.ring.last, message }
    peer.send(JSON.stringify(msg), TEXT)
    peer.close(CLOSE.gone.code, reason)
  }

  /**
   * Puts a subscriber in the group of its filter. A group starts at the ring's head, so a
   * subscriber behind it (a resume) replays through catchUp(), which waits for a slow peer,
   * rather than through the group's frames, which a peer above the high-water mark loses.
   */
  private join(m: Member, filter: Filter): void {
    m.filter = filter
    let g = this.groups.get(filter.key)
    if (!g) {
      g = new Group(filter, this.ring.last)
      this.groups.set(filter.key, g)
      this.select()
    } else if (g.seen < m.seen) this.flushGroup(g)
    g.members.add(m)
    m.group = g
    if (m.seen < g.seen) this.flushSoon()
  }

  private leave(m: Member): void {
    const g = m.group
    if (!g) return
    g.members.delete(m)
    m.group = null
    if (g.members.size === 0) {
      this.groups.delete(g.filter.key)
      this.select()
    }
  }

  protected flushGroups(all: boolean): void {
    const now = performance.now()
    let min = this.ring.last
    for (const g of this.groups.values()) {
      const due =
        all ||
        now - g.flushedAt >= g.filter.sub.batch_ms ||
        this.ring.last - g.seen >= FLUSH_EVENTS ||
        this.behind(g)
      if (due) this.flushGroup(g, now)
      min = Math.min(min, g.seen)
    }
    this.flushedTo = this.ring.last
    this.minSeen = min
  }

  private behind(g: Group): boolean {
    for (const m of g.members) if (m.seen < g.seen) return true
    return false
  }

  private flushGroup(g: Group, now = performance.now()): void {
    const to = this.ring.last
    if (g.seen + 1 < this.ring.first) {
      // The sink flushes at half the ring, so a group never falls out; if one did: start over.
      for (const m of g.members) this.reset(m, 'expired')
      return
    }
    const frames = to > g.seen ? this.frames(g.filter, g.seen + 1, to) : []
    const inSync = g.seen
    g.seen = to
    g.flushedAt = now
    for (const m of g.members) {
      if (m.seen < inSync && !this.catchUp(m, inSync, now)) continue
      this.serve(m, frames, to, now)
    }
  }

  /** Sends a subscriber that is in step with its group the group's frames, or counts them lost. */
  private serve(m: Member, frames: readonly Frame[], to: number, now: number): void {
    for (const f of frames) {
      if (this.congested(m, now)) {
        if (m.lostCount === 0) m.lostFrom = f.from
        m.lostTo = f.to
        m.lostCount += f.count
        m.lostTotal += f.count
        this.sent.lost += f.count
      } else {
        if (m.lostCount > 0) this.sendLost(m)
        this.send(m, f)
      }
    }
    m.seen = to
    if (m.lostCount > 0 && !this.congested(m, now)) this.sendLost(m)
  }

  /**
   * Replays the ring to a subscriber behind its group (a resume), without loss: it waits
   * while the peer is above the high-water mark. True once it is in step.
   */
  private catchUp(m: Member, target: number, now: number): boolean {
    let budget = CATCHUP_BYTES
    while (m.seen < target) {
      if (m.seen + 1 < this.ring.first) {
        this.reset(m, 'expired')
        return false
      }
      if (this.congested(m, now) || budget <= 0) {
        this.flushSoon()
        return false
      }
      const to = Math.min(target, m.seen + MAX_BATCH_EVENTS * 8)
      for (const f of this.frames(m.filter, m.seen + 1, to)) {
        this.send(m, f)
        budget -= f.buf.length
      }
      m.seen = to
    }
    return true
  }

  /** Above the high-water mark (or, while losing, not yet below the low-water mark). */
  private congested(m: Member, now: number): boolean {
    const limit = m.lostCount > 0 ? this.lowWater : this.highWater
    if (m.peer.bufferedAmount > limit) {
      m.stuckSince ??= now
      return true
    }
    m.stuckSince = null
    return false
  }

  private send(m: Member, f: Frame): void {
    m.peer.send(f.buf, TEXT)
    this.sent.batches++
    this.sent.events += f.count
  }

  private sendLost(m: Member): void {
    m.peer.send(
      `{"type":"lost","from_seq":${m.lostFrom},"to_seq":${m.lostTo},"count":${m.lostCount}}`,
      TEXT,
    )
    m.lostCount = 0
  }

  /**
   * The batch frames of the events in [from, to] passing `filter`, split at the size caps.
   * A frame covers from its first position to its last event (the last frame: to `to`).
   */
  frames(filter: Filter, from: number, to: number): Frame[] {
    const { ring, scratch, writer: w } = this
    const json = filter.sub.format === 'json'
    const out: Frame[] = []
    let count = 0
    let start = from
    const finish = (end: number) => {
      const head = Buffer.from(
        `{"type":"batch","epoch":"${ring.epoch}","from_seq":${start},"to_seq":${end},"events":[`,
      )
      const buf = Buffer.allocUnsafe(head.length + w.pos + 2)
      head.copy(buf)
      w.buf.copy(buf, head.length, 0, w.pos)
      buf.write(']}', head.length + w.pos, 'latin1')
      out.push({ from: start, to: end, count, buf })
      w.reset()
      count = 0
      start = end + 1
    }
    w.reset()
    for (let seq = from; seq <= to; seq++) {
      if (!passes(filter, ring, seq)) continue
      if (count > 0) w.byte(COMMA)
      const ev = ring.load(seq, scratch)
      if (json) writeEventJson(w, ev)
      else w.string(traceLine(ev))
      if (++count >= MAX_BATCH_EVENTS || w.pos >= MAX_BATCH_BYTES) finish(seq)
    }
    if (count > 0) finish(to)
    return out
  }

  /** Flushes the groups that are due (all of them with `all`) and does the periodic work. */
  protected tend(now: number, all: boolean): void {
    this.flushGroups(all)
    for (const m of this.members) {
      if (m.stuckSince !== null && now - m.stuckSince > this.stuckMs) {
        this.close(m, CLOSE.tryAgain, 'too slow: stopped reading')
      }
    }
    if (now - this.lastHeartbeat >= this.heartbeatMs) {
      this.lastHeartbeat = now
      for (const m of this.members) {
        if (m.group && m.seen === m.group.seen && !this.congested(m, now)) {
          m.peer.send(
            `{"type":"heartbeat","epoch":"${this.ring.epoch}","seq":${m.seen},"now":${this.kernel.now}}`,
            TEXT,
          )
        }
      }
    }
    if (now - this.lastStats >= this.statsMs) {
      this.lastStats = now
      this.sendStats(now)
    }
    if (now - this.lastPing >= this.pingMs) {
      this.lastPing = now
      for (const m of this.members) {
        if (!m.alive) {
          this.remove(m, 'unresponsive')
          m.peer.terminate()
        } else {
          m.alive = false
          m.peer.ping()
        }
      }
    }
  }

  private sendStats(now: number): void {
    // Sampled even with nobody listening, so that the next subscriber's first rates cover
    // one interval; the rest is only built for a message.
    const s = this.sampler.sample()
    if (this.members.size === 0) return
    const k = this.kernel
    const common = JSON.stringify({
      type: 'stats',
      now: k.now,
      seq: this.ring.last,
      ...s,
      numa_balancing: k.numab.mode,
      threads: threads(k),
      processes: occupancy(k),
      nodes: statsNodes(k),
      subscribers: this.members.size,
    })
    // Each subscriber gets the history samples it has not had (from its snapshot or an
    // earlier stats; a congested one skipped some stats): built once per starting point.
    const newest = k.history.newest ?? Number.NEGATIVE_INFINITY
    const msgs = new Map<number, Buffer>()
    for (const m of this.members) {
      if (this.congested(m, now)) continue
      let msg = msgs.get(m.historySent)
      if (!msg) {
        const history = JSON.stringify(historyJson(k, m.historySent))
        msg = Buffer.from(`${common.slice(0, -1)},"history":${history}}`)
        msgs.set(m.historySent, msg)
      }
      m.peer.send(msg, TEXT)
      m.historySent = newest
    }
  }

  /** The stream's figures for /metrics. */
  stats(): EventStreamStats {
    return { subscribers: this.members.size, ...this.sent, disconnects: { ...this.disconnects } }
  }
}
