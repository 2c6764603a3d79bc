/**
 * The tail of events: its own stream, with the user's filter (event globs, pids) applied by
 * the server, shown as a table (format json) or as trace_pipe lines (format text). Lost
 * events are counted and marked where they were lost, as trace_pipe marks them.
 */
import { el, setText } from './dom.js'
import { EventStream } from './stream.js'

const KEEP = 200

const globs = (s) =>
  s
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean)

export class Tail {
  /**
   * @param {{onLost: (count: number) => void, onMessage: () => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks
    this.form = document.getElementById('tail-form')
    this.filter = document.getElementById('tail-filter')
    this.pids = document.getElementById('tail-pids')
    this.freeze = document.getElementById('tail-freeze')
    this.error = document.getElementById('tail-error')
    this.state = document.getElementById('tail-state')
    this.lostBadge = document.getElementById('tail-lost')
    this.table = document.getElementById('tail-table')
    this.tbody = document.getElementById('tail-rows')
    this.pre = document.getElementById('trace-pipe')
    /** Newest last: events (objects or trace_pipe lines), or `{mark, kind}` notes. */
    this.items = []
    /** The format of the events in `items`. */
    this.shown = 'json'
    this.lost = 0
    this.dirty = false
    this.stream = new EventStream({
      subscription: this.wanted(),
      onMessage: (m) => this.receive(m),
      onStatus: (s, why) => {
        this.state.dataset.state = s
        setText(this.state, why ? `${s}: ${why}` : s)
      },
    })
    this.form.addEventListener('submit', (e) => {
      e.preventDefault()
      this.apply()
    })
    this.form.addEventListener('change', (e) => {
      if (e.target.name === 'view') this.apply()
    })
  }

  start() {
    this.stream.start()
  }

  get format() {
    return this.form.elements.view.value
  }

  wanted() {
    const pids = globs(this.pids.value).map(Number)
    return {
      events: globs(this.filter.value),
      pids: pids.length ? pids : undefined,
      format: this.format,
    }
  }

  apply() {
    setText(this.error, '')
    this.filter.removeAttribute('aria-invalid')
    this.stream.subscribe(this.wanted())
  }

  receive(m) {
    this.hooks.onMessage()
    switch (m.type) {
      case 'batch':
        for (const e of m.events) this.items.push(e)
        break
      case 'lost':
        this.lost += m.count
        this.items.push({ mark: `CPU:0 [LOST ${m.count} EVENTS]`, kind: 'lost' })
        this.hooks.onLost(m.count)
        setText(this.lostBadge, `LOST ${this.lost.toLocaleString('en')}`)
        this.lostBadge.hidden = false
        break
      case 'reset':
        this.items.push({ mark: `stream reset (${m.reason}): ${m.message}`, kind: 'lost' })
        break
      case 'snapshot':
      case 'subscribed':
        // The view follows the subscription the server accepted.
        if (m.subscription.format !== this.shown) {
          this.shown = m.subscription.format
          this.items = []
          this.table.hidden = this.shown !== 'json'
          this.pre.hidden = this.shown !== 'text'
        }
        if (m.type === 'subscribed') {
          const { events, pids } = m.subscription
          const of = pids ? `, pids ${pids.join(',')}` : ''
          this.items.push({
            mark: `subscribed after seq ${m.seq}: ${events.length} event types${of}`,
            kind: 'note',
          })
        }
        break
      case 'error':
        setText(this.error, m.message)
        this.filter.setAttribute('aria-invalid', 'true')
        break
    }
    if (this.items.length > KEEP) this.items.splice(0, this.items.length - KEEP)
    this.dirty = true
  }

  render() {
    if (!this.dirty || this.freeze.checked) return
    this.dirty = false
    if (this.shown === 'text') {
      this.pre.textContent = this.items.map((e) => e.mark ?? e).join('\n')
      this.pre.scrollTop = this.pre.scrollHeight
      return
    }
    const rows = []
    for (let i = this.items.length - 1; i >= 0; i--) {
      const e = this.items[i]
      if (e.mark) {
        rows.push(el('tr', { class: `mark ${e.kind}` }, el('td', { colspan: 5 }, e.mark)))
        continue
      }
      const fields = Object.entries(e.fields)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')
      rows.push(
        el(
          'tr',
          { dataset: { event: e.event } },
          el('td', { class: 'num' }, String(e.seq)),
          el('td', { class: 'num' }, (e.ts / 1e6).toFixed(6)),
          el('td', {}, `${e.comm}-${e.pid}`),
          el('td', {}, e.event),
          el('td', {}, fields),
        ),
      )
    }
    this.tbody.replaceChildren(...rows)
  }
}
