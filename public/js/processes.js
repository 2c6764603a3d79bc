/**
 * The processes (one row each, updated in place so keyboard focus survives updates), the
 * form that spawns one, and the memory nodes.
 */
import { api } from './api.js'
import { PALETTE } from './charts.js'
import { bytes, el, PAGE, pct, setText } from './dom.js'

const COLUMNS = [
  'pid',
  'comm',
  'workload',
  'rate',
  'size',
  'nodes',
  'top',
  'hit',
  'latency',
  'precision',
  'recall',
  'promoted',
  'pending',
  'period',
  'numab',
  'finish',
]

/** A workload spec as a short label: `zipf θ=0.99`, `hotset 10% (90% of accesses)`. */
export function workloadLabel(w) {
  switch (w.pattern) {
    case 'zipf':
      return `zipf θ=${w.theta}`
    case 'hotset': {
      const hot = `hotset ${+(w.hot_fraction * 100).toPrecision(3)}%`
      const share = w.hot_access_fraction ?? 0.9
      const shift = w.shift_at_ms === undefined ? '' : `, shifts at ${w.shift_at_ms / 1000} s`
      return `${hot} (${+(share * 100).toPrecision(3)}% of accesses${shift})`
    }
    default:
      return w.pattern
  }
}

/** A closed loop's time to finish, or how far it got; '—' for a fixed-rate process. */
function finishLabel(loop) {
  if (!loop) return '—'
  if (loop.time_to_finish_ms !== null) return `${(loop.time_to_finish_ms / 1000).toFixed(3)} s`
  return `${pct(loop.done / loop.accesses)} done`
}

/** A bar of pages per node, coloured by tier, with the counts below it. */
function nodeBar(nodes) {
  const bar = el('div', { class: 'bar', 'aria-hidden': 'true' })
  const counts = el('div', { class: 'bar-counts' })
  for (const n of nodes) {
    bar.append(el('span', { class: n.toptier ? 'seg top' : 'seg slow', dataset: { node: n.id } }))
    counts.append(el('span', { dataset: { node: n.id } }))
  }
  return el('div', { class: 'pages-per-node' }, bar, counts)
}

function fillBar(cell, nodes, perNode) {
  const total = perNode.reduce((a, b) => a + b, 0) || 1
  const segs = cell.querySelectorAll('.seg')
  const counts = cell.querySelectorAll('.bar-counts span')
  nodes.forEach((n, i) => {
    const v = perNode[i] ?? 0
    segs[i].style.width = `${(100 * v) / total}%`
    segs[i].title = `node${n.id} ${n.label}: ${v.toLocaleString('en')} pages`
    setText(counts[i], `${n.id}: ${(v / 1000).toFixed(v >= 1e4 ? 0 : 1)}k`)
  })
}

export class ProcessTable {
  /**
   * @param {HTMLElement} tbody
   * @param {(pid: number) => Promise<void>} exit ends a process (its row's button)
   */
  constructor(tbody, exit) {
    this.tbody = tbody
    this.exit = exit
    /** @type {Map<number, {row: HTMLElement, cells: Record<string, HTMLElement>}>} */
    this.rows = new Map()
  }

  clear() {
    this.tbody.replaceChildren()
    this.rows.clear()
  }

  /** Shows `procs` (as `stats` carries them, in pid order); rows of gone processes go. */
  render(procs, nodes) {
    const seen = new Set()
    procs.forEach((p, i) => {
      seen.add(p.pid)
      let r = this.rows.get(p.pid)
      if (!r) r = this.add(p, nodes)
      const c = r.cells
      c.comm.querySelector('.swatch').style.background = PALETTE[i % PALETTE.length]
      setText(c.workload, workloadLabel(p.workload))
      setText(c.rate, `${(p.access_rate / 1e6).toFixed(2)}M/s`)
      setText(c.size, bytes(p.pages_per_node.reduce((a, b) => a + b, 0) * PAGE))
      fillBar(c.nodes, nodes, p.pages_per_node)
      setText(c.top, pct(p.toptier_share))
      setText(c.hit, pct(p.top_tier_hit_ratio))
      setText(c.latency, p.mean_latency_ns == null ? '—' : `${p.mean_latency_ns.toFixed(0)} ns`)
      setText(c.precision, pct(p.precision))
      setText(c.recall, pct(p.recall))
      setText(c.promoted, p.promoted.toLocaleString('en'))
      setText(c.pending, p.migration ? p.migration.pending.toLocaleString('en') : '—')
      setText(c.period, p.scan ? `${p.scan.scan_period} ms` : '—')
      setText(c.numab, p.numa ? `${((p.numa.scan_ns + p.numa.fault_ns) / 1e6).toFixed(1)} ms` : '—')
      setText(c.finish, finishLabel(p.closed_loop))
      this.tbody.append(r.row)
      r.badge.hidden = !p.stall
      r.badge.title = p.stall ? p.stall.reason : ''
    })
    for (const [pid, r] of this.rows) {
      if (!seen.has(pid)) {
        r.row.remove()
        this.rows.delete(pid)
      }
    }
  }

  add(p, nodes) {
    const cells = {}
    for (const k of COLUMNS) {
      const text = ['pid', 'comm', 'workload', 'nodes'].includes(k)
      cells[k] = el('td', { class: text ? k : 'num', dataset: { col: k } })
    }
    cells.pid.textContent = String(p.pid)
    const badge = el('span', { class: 'badge stalled', hidden: true }, 'stalled')
    cells.comm.append(el('span', { class: 'swatch', 'aria-hidden': 'true' }), p.comm, ' ', badge)
    cells.nodes.append(nodeBar(nodes))
    const end = el(
      'button',
      { type: 'button', class: 'small', dataset: { action: 'exit' } },
      'End',
      el('span', { class: 'sr-only' }, ` ${p.comm} (${p.pid})`),
    )
    const error = el('output', { class: 'error' })
    end.addEventListener('click', async () => {
      end.disabled = true
      try {
        await this.exit(p.pid)
      } catch (err) {
        end.disabled = false
        setText(error, err.message)
      }
    })
    const row = el(
      'tr',
      { dataset: { pid: p.pid } },
      COLUMNS.map((k) => cells[k]),
      el('td', {}, end, error),
    )
    const r = { row, cells, badge }
    this.rows.set(p.pid, r)
    return r
  }
}

/** The spawn form: builds a POST /processes spec from its fields. */
export function spawnForm(form, status, onSpawned) {
  const f = form.elements
  const sync = () => {
    form.querySelector('[data-for-policy]').hidden = f.policy.value === 'local'
    for (const l of form.querySelectorAll('[data-for-workload]')) {
      l.hidden = l.dataset.forWorkload !== f.workload.value
    }
  }
  form.addEventListener('change', sync)
  sync()
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const nodes = f.nodes.value.split(',').filter(Boolean).map(Number)
    const policy = {
      local: { mode: 'local' },
      preferred: { mode: 'preferred', node: nodes[0] },
      bind: { mode: 'bind', nodes },
      interleave: { mode: 'interleave', nodes },
    }[f.policy.value]
    const workload = {
      zipf: { pattern: 'zipf', theta: Number(f.theta.value) },
      hotset: { pattern: 'hotset', hot_fraction: Number(f.hot_fraction.value) },
    }[f.workload.value] ?? { pattern: f.workload.value }
    const spec = {
      comm: f.comm.value,
      size: Number(f.size.value) * 2 ** 20,
      policy,
      workload,
      access_rate: Number(f.access_rate.value),
    }
    try {
      const p = await api('POST', '/processes', spec)
      status.dataset.kind = 'ok'
      setText(status, `spawned ${p.comm} (pid ${p.pid})`)
      onSpawned(p)
    } catch (err) {
      status.dataset.kind = 'error'
      setText(status, err.detail ? `${err.message}: ${err.detail}` : err.message)
    }
  })
}

/** The memory nodes: tier, and how full each is. */
export class NodeList {
  constructor(host) {
    this.host = host
    this.items = new Map()
  }

  render(nodes) {
    if (this.items.size !== nodes.length) {
      this.host.replaceChildren()
      this.items.clear()
      for (const n of nodes) {
        const fill = el('span', { class: n.toptier ? 'fill top' : 'fill slow' })
        const text = el('span', { class: 'used' })
        const item = el(
          'div',
          { class: 'node', id: `node-${n.id}` },
          el(
            'div',
            { class: 'node-head' },
            el('strong', {}, `node${n.id}`),
            el('span', { class: n.toptier ? 'tier top' : 'tier slow' }, n.label),
            el(
              'span',
              { class: 'muted' },
              `${n.toptier ? 'top tier' : 'slow tier'} · ${n.latency_ns} ns`,
            ),
          ),
          el('div', { class: 'meter', role: 'presentation' }, fill),
          text,
        )
        this.host.append(item)
        this.items.set(n.id, { fill, text })
      }
    }
    for (const n of nodes) {
      const it = this.items.get(n.id)
      const used = n.pages - n.free
      it.fill.style.width = `${(100 * used) / (n.pages || 1)}%`
      setText(it.text, `${bytes(used * PAGE)} of ${bytes(n.pages * PAGE)} used`)
    }
  }
}
