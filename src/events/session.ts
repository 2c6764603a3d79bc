/**
 * One websocket subscriber: what it is sent first (snapshot, or `subscribed` on a resume),
 * and what it may send (`subscribe`). Bad input gets an `error` message and changes
 * nothing; floods and persistent garbage get a close code. Nothing a client sends can throw
 * out of here or touch another subscriber.
 */
import { performance } from 'node:perf_hooks'
import type { RawData, WebSocket } from 'ws'
import { z } from 'zod'
import {
  compileFilter,
  type Filter,
  GlobError,
  type Subscription,
  selectedEvents,
} from './filter.ts'
import type { EventHub } from './hub.ts'
import {
  CLOSE,
  DEFAULT_BATCH_MS,
  type ERROR_CODES,
  MESSAGE_BURST,
  MESSAGES_PER_SECOND,
  Subscribe,
  type SubscribeMessage,
} from './protocol.ts'

/** Rejected messages a connection may send before it is closed with 4400. */
const MAX_ERRORS = 20

type ErrorCode = (typeof ERROR_CODES)[number]

export interface Position {
  readonly epoch: string
  readonly seq: number
}

/** The subscription a message (or the URL) asks for, with defaults filled in. */
export function subscriptionOf(msg: Omit<SubscribeMessage, 'type'>): Subscription {
  return {
    events: msg.events ?? ['*'],
    pids: msg.pids ?? null,
    format: msg.format ?? 'json',
    batch_ms: msg.batch_ms ?? DEFAULT_BATCH_MS,
  }
}

function describe(f: Filter) {
  return {
    events: selectedEvents(f),
    pids: f.pids ? [...f.pids] : null,
    format: f.sub.format,
    batch_ms: f.sub.batch_ms,
  }
}

function error(ws: WebSocket, code: ErrorCode, message: string): void {
  ws.send(JSON.stringify({ type: 'error', code, message }))
}

/**
 * Starts streaming to a freshly upgraded socket. `filter` comes from the validated URL; with
 * `since` the stream resumes after that position, else it starts with a snapshot.
 * Listeners are attached before this returns, so no client message is missed.
 */
export function openSession(
  hub: EventHub,
  ws: WebSocket,
  filter: Filter,
  since: Position | null,
): void {
  if (hub.members.size >= hub.maxSubscribers) {
    ws.close(CLOSE.tryAgain.code, 'too many subscribers')
    return
  }
  const check = since ? hub.checkSince(since.epoch, since.seq, filter) : 'ok'
  if (check === 'future') {
    error(ws, 'bad_since', notReached(since as Position))
    ws.close(CLOSE.badRequest.code, 'bad since')
    return
  }
  if (check !== 'ok') {
    hub.resetPeer(ws, check)
    return
  }
  if (!since) ws.send(JSON.stringify(hub.snapshot(describe(filter))))
  const member = hub.add(ws, filter, since ? since.seq : hub.ring.last, !since)
  const subscribed = () =>
    ws.send(
      JSON.stringify({
        type: 'subscribed',
        epoch: hub.ring.epoch,
        seq: member.seen,
        subscription: describe(member.filter),
      }),
    )
  if (since) subscribed()

  let tokens = MESSAGE_BURST
  let tokensAt = performance.now()
  let errors = 0
  const reject = (code: ErrorCode, message: string) => {
    error(ws, code, message)
    if (++errors > MAX_ERRORS) hub.close(member, CLOSE.badRequest, 'too many bad messages')
  }

  const onMessage = (data: RawData, isBinary: boolean) => {
    if (member.closed) return
    const now = performance.now()
    tokens = Math.min(MESSAGE_BURST, tokens + ((now - tokensAt) / 1000) * MESSAGES_PER_SECOND)
    tokensAt = now
    if (tokens < 1) return hub.close(member, CLOSE.policy, 'too many messages')
    tokens--
    if (isBinary) return reject('binary_frame', 'messages are JSON text frames')
    let msg: unknown
    try {
      msg = JSON.parse(String(data))
    } catch {
      return reject('bad_json', 'a message is one JSON object')
    }
    const type =
      typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined
    if (typeof type === 'string' && type !== 'subscribe') {
      return reject('unknown_type', `unknown message type ${JSON.stringify(type.slice(0, 40))}`)
    }
    const parsed = Subscribe.safeParse(msg)
    if (!parsed.success) return reject('bad_message', z.prettifyError(parsed.error))
    let next: Filter
    try {
      next = compileFilter(subscriptionOf(parsed.data))
    } catch (err) {
      if (err instanceof GlobError) return reject('bad_glob', err.message)
      throw err
    }
    const at = parsed.data.since
    if (at) {
      const c = hub.checkSince(at.epoch, at.seq, next)
      if (c === 'future') return reject('bad_since', notReached(at))
      if (c !== 'ok') return hub.reset(member, c)
    }
    hub.change(member, next, at?.seq)
    subscribed()
  }

  ws.on('message', onMessage)
  ws.on('pong', () => {
    member.alive = true
  })
  // ws closes by itself on a protocol error (an oversized frame: 1009) and reports it first.
  ws.on('error', () => hub.remove(member, 'protocol_error'))
  ws.on('close', () => hub.remove(member))
}

const notReached = (p: Position) => `seq ${p.seq} is not reached yet`
