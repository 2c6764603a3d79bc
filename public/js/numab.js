/**
 * The NUMA balancing card, beside kscand's and kmigrated's: the mode, the hint faults and
 * promotion candidates per virtual second, and the hot threshold of each top-tier node, as
 * `stats` brings them. NUMA balancing has no thread of its own (it scans and faults in the
 * tasks), so the card has no button: the mode is a tunable (/proc/sys/kernel/numa_balancing).
 */
import { compact } from './charts.js'
import { el, setText } from './dom.js'

/** The bits of sysctl_numa_balancing_mode. */
const MODES = ['off', 'NORMAL', 'MEMORY_TIERING', 'NORMAL | MEMORY_TIERING', 'no bit set']

export class NumabCard {
  /** @param {HTMLElement} host */
  constructor(host) {
    this.f = {
      mode: el('span', { class: 'badge' }, '—'),
      faults: el('output', { id: 'numab-hint-faults', dataset: { value: '' } }, '—'),
      candidates: el('output', { id: 'numab-candidates', dataset: { value: '' } }, '—'),
      thresholds: el('dd', { id: 'numab-thresholds' }, '—'),
    }
    this.card = el(
      'article',
      { class: 'card numab', id: 'numab', dataset: { mode: '' } },
      el('header', {}, el('h3', {}, 'NUMA balancing'), this.f.mode),
      el('p', { class: 'role' }, 'promotes on hint faults, in the faulting task'),
      el(
        'dl',
        {},
        el('dt', {}, 'hint faults/s'),
        el('dd', {}, this.f.faults),
        el('dt', {}, 'candidates/s'),
        el('dd', {}, this.f.candidates),
        el('dt', {}, 'hot threshold'),
        this.f.thresholds,
      ),
    )
    host.append(this.card)
  }

  /** A `stats` message; `rates` are the last ones known (null while time stood). */
  update(m, rates) {
    const mode = m.numa_balancing
    this.card.dataset.mode = String(mode)
    setText(this.f.mode, `${mode}: ${MODES[mode] ?? mode}`)
    for (const [key, counter] of [
      ['faults', 'numa_hint_faults'],
      ['candidates', 'pgpromote_candidate'],
    ]) {
      const rate = rates[counter]
      const known = rate !== undefined && rate !== null
      this.f[key].dataset.value = known ? String(rate) : ''
      setText(this.f[key], known ? compact(rate) : '—')
    }
    const top = m.nodes.filter((n) => n.hot_threshold_ms !== null)
    setText(this.f.thresholds, top.map((n) => `node${n.id} ${n.hot_threshold_ms} ms`).join(', '))
  }
}
