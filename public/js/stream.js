/**
 * A client of GET /events (asyncapi.yaml): one websocket that keeps its position
 * `{epoch, seq}` and reconnects by itself.
 *
 * - It starts without a position and gets a `snapshot`; from then on every `batch`,
 *   `lost`, `heartbeat` and `subscribed` moves the position forward.
 * - After a disconnect it reconnects with `since` and `epoch` in the URL, so the server
 *   replays what it missed (answered with `subscribed`, no snapshot).
 * - If that position is gone (`reset`, then close 4410: the ring moved on, or the daemon
 *   restarted with a new epoch), it forgets it and reconnects at once for a fresh snapshot.
 * - A subscription change is a `subscribe` message; it is only put in the URL of later
 *   connections once the server accepted it, so a reconnect never carries a bad filter.
 */

import { auth } from './api.js'

const PROTOCOL = 'kscand-sim.v1'
/** The token, once the page has one, travels as a subprotocol (a websocket has no headers). */
const TOKEN_PROTOCOL = 'base64url.bearer.authorization.kscand-sim.'
const base64url = (s) => btoa(s).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')
const GONE = 4410
const GOING_AWAY = 1001
/** The close code this client uses for a frame that is not JSON. */
const BAD_FRAME = 4000
/** Heartbeats come every 15 s and stats every second: silence this long is a dead peer. */
const SILENCE_MS = 35_000
const MAX_DELAY_MS = 5000

export class EventStream {
  /**
   * @param {object} opts
   * @param {{events?: string[], pids?: number[], format?: 'json'|'text'}} opts.subscription
   * @param {(msg: any) => void} opts.onMessage every message, after the position is updated
   * @param {(status: 'connecting'|'live'|'reconnecting', detail: string) => void} opts.onStatus
   */
  constructor({ subscription, onMessage, onStatus }) {
    this.subscription = subscription
    this.onMessage = onMessage
    this.onStatus = onStatus
    /** @type {{epoch: string, seq: number} | null} */
    this.position = null
    this.pending = null
    this.ws = null
    this.attempt = 0
    this.silence = 0
  }

  start() {
    this.connect()
  }

  /** Changes the subscription; the answer is a `subscribed` or an `error` message. */
  subscribe(subscription) {
    this.pending = subscription
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: 'subscribe', ...subscription }))
    }
  }

  url() {
    const q = new URLSearchParams()
    const { events, pids, format } = this.subscription
    if (events) q.set('events', events.join(','))
    if (pids) q.set('pids', pids.join(','))
    if (format) q.set('format', format)
    if (this.position) {
      q.set('since', String(this.position.seq))
      q.set('epoch', this.position.epoch)
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    return `${scheme}//${location.host}/events?${q}`
  }

  connect() {
    if (this.attempt === 0) this.onStatus('connecting', '')
    const token = auth.token ? [`${TOKEN_PROTOCOL}${base64url(auth.token)}`] : []
    const ws = new WebSocket(this.url(), [PROTOCOL, ...token])
    this.ws = ws
    ws.onopen = () => {
      // A change asked for while the connection was down.
      if (this.pending) ws.send(JSON.stringify({ type: 'subscribe', ...this.pending }))
    }
    ws.onmessage = (e) => {
      let msg
      try {
        msg = JSON.parse(e.data)
      } catch {
        // Not the protocol: drop the connection and resume from the last good position.
        ws.close(BAD_FRAME, 'bad frame from the server')
        return
      }
      this.receive(msg)
    }
    ws.onclose = (e) => this.closed(e)
    this.watch()
  }

  receive(msg) {
    this.watch()
    switch (msg.type) {
      case 'snapshot':
        this.position = { epoch: msg.epoch, seq: msg.seq }
        this.attempt = 0
        this.onStatus('live', '')
        break
      case 'subscribed':
        this.position = { epoch: msg.epoch, seq: msg.seq }
        this.attempt = 0
        if (this.pending) {
          this.subscription = this.pending
          this.pending = null
        }
        this.onStatus('live', '')
        break
      case 'batch':
      case 'lost':
        this.position.seq = msg.to_seq
        break
      case 'heartbeat':
        this.position.seq = msg.seq
        break
      case 'error':
        // A rejected subscribe: the subscription is unchanged.
        this.pending = null
        break
      case 'reset':
        // The position is gone: start over from a snapshot (the close with 4410 follows).
        this.position = null
        break
    }
    this.onMessage(msg)
  }

  closed(e) {
    clearTimeout(this.silence)
    this.ws = null
    let delay
    if (e.code === GONE) delay = 0
    else if (e.code === GOING_AWAY) delay = 1000
    else delay = Math.min(MAX_DELAY_MS, 250 * 2 ** this.attempt)
    this.attempt++
    const why = e.code === GONE ? 'position gone' : e.reason || `closed (${e.code})`
    this.onStatus('reconnecting', why)
    // Jitter, so that many dashboards do not all come back in the same millisecond.
    setTimeout(() => this.connect(), delay + (delay ? Math.random() * 250 : 0))
  }

  /** Reconnects if the server goes quiet for longer than its heartbeats allow. */
  watch() {
    clearTimeout(this.silence)
    this.silence = setTimeout(() => this.ws?.close(), SILENCE_MS)
  }
}
