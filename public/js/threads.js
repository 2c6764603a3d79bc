/** The thread cards: kscand and kmigrated, with their state and a start/stop button. */
import { api } from './api.js'
import { el, secs, setText } from './dom.js'

const CARD_THREADS = ['kscand', 'kmigrated']

const ROLE = {
  kscand: 'scans page tables for hot slow-tier pages',
  kmigrated: 'promotes the pages kscand queued',
}

export class ThreadCards {
  /**
   * @param {HTMLElement} host
   * @param {() => number} clock virtual ms now, for "last wake … ago"
   */
  constructor(host, clock) {
    this.clock = clock
    this.cards = new Map()
    for (const name of CARD_THREADS) {
      const f = {
        state: el('span', { class: 'badge' }, '—'),
        pid: el('dd'),
        cycles: el('dd'),
        wake: el('dd'),
        cpu: el('dd'),
        error: el('output', { class: 'error' }),
        button: el('button', { type: 'button', id: `thread-${name}-toggle`, disabled: true }, '…'),
      }
      const card = el(
        'article',
        { class: 'card thread', id: `thread-${name}`, dataset: { state: '' } },
        el('header', {}, el('h3', {}, name), f.state),
        el('p', { class: 'role' }, ROLE[name]),
        el(
          'dl',
          {},
          el('dt', {}, 'pid'),
          f.pid,
          el('dt', {}, 'cycles'),
          f.cycles,
          el('dt', {}, 'last wake'),
          f.wake,
          el('dt', {}, 'CPU'),
          f.cpu,
        ),
        el('div', { class: 'actions' }, f.button, f.error),
      )
      f.button.addEventListener('click', () => this.toggle(name))
      host.append(card)
      this.cards.set(name, { card, f, thread: null, busy: false, refused: '' })
    }
  }

  /** A thread as GET /threads or the snapshot shows it (other threads are ignored). */
  update(thread) {
    const c = this.cards.get(thread.name)
    if (!c) return
    c.thread = thread
    this.render(c)
  }

  /** A state change seen in the stream before the next full update. */
  setState(name, state) {
    const c = this.cards.get(name)
    if (!c?.thread) return
    c.thread = { ...c.thread, state }
    this.render(c)
  }

  render(c) {
    const t = c.thread
    const now = this.clock()
    c.card.dataset.state = t.state
    setText(c.f.state, t.state)
    setText(c.f.pid, String(t.pid))
    setText(c.f.cycles, t.cycles.toLocaleString('en'))
    // The clock is the last stats' time, which a freshly read wake-up may be past.
    const ago = t.last_wake === null ? 0 : Math.max(0, now - t.last_wake) / 1000
    const when = t.last_wake === null ? '—' : `t = ${secs(t.last_wake)} (${ago.toFixed(2)} s ago)`
    setText(c.f.wake, when)
    setText(c.f.cpu, `${(t.cpu_ns / 1e6).toFixed(1)} ms`)
    // Why the last start/stop was refused, else the thread's own last error.
    setText(c.f.error, c.refused || (t.last_error ?? ''))
    const running = t.state !== 'stopped'
    setText(c.f.button, running ? `Stop ${t.name}` : `Start ${t.name}`)
    c.f.button.dataset.action = running ? 'stop' : 'start'
    c.f.button.disabled = c.busy
  }

  async toggle(name) {
    const c = this.cards.get(name)
    const action = c.f.button.dataset.action
    c.busy = true
    c.f.button.disabled = true
    try {
      const r = await api('POST', `/threads/${name}/${action}`)
      c.thread = r.thread
      c.refused = ''
    } catch (err) {
      c.refused = err.message
    } finally {
      c.busy = false
      this.render(c)
    }
  }
}
