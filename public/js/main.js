/**
 * The dashboard: one stream (GET /events) for the state, its changes and the figures, one
 * more for the tail of events (tail.js), and the REST API for everything the user changes.
 *
 * The main stream starts with a snapshot; `stats` (every second) brings counters, rates, the
 * threads, the NUMA balancing mode and hot thresholds, and every process as GET /processes/PID
 * shows it (occupancy, quality, scan, migration and NUMA balancing state); events bring what changed in between: thread starts and stops, and
 * every write anyone makes (`sysfs:sysfs_write`: sysfs files, time, threads, processes).
 * The page reads nothing else while it runs: only GET /sim after each snapshot, and GET
 * /sim/reports once at load and on the Experiments panel's Refresh (experiments.js).
 *
 * The charts draw the daemon's history: the snapshot's (from the oldest second it keeps, so a
 * page opened late shows the past at once), then the seconds each `stats` adds.
 *
 * For tests and tools, <body> carries data-connection, data-epoch, data-now (virtual ms),
 * data-received (messages), data-stats and data-lost.
 */
import { api, auth } from './api.js'
import { compact, PALETTE, TimeChart } from './charts.js'
import { bytes, el, PAGE, secs, setText } from './dom.js'
import { experimentsPanel } from './experiments.js'
import { NumabCard } from './numab.js'
import { NodeList, ProcessTable, spawnForm } from './processes.js'
import { StallBanner } from './stalls.js'
import { EventStream } from './stream.js'
import { Tail } from './tail.js'
import { ThreadCards } from './threads.js'
import { TunablesForm } from './tunables.js'

const $ = (id) => document.getElementById(id)
const body = document.body

const MAIN_EVENTS = [
  'kthread:kthread_start',
  'kthread:kthread_stop',
  'kthread:kthread_pause',
  'sysfs:sysfs_write',
]

const RATES = [
  { counter: 'pgpromote_success', id: 'rate-promotions', label: 'promotions/s', color: '#2dd4a7' },
  {
    counter: 'nr_kscand_migrate_failed',
    id: 'rate-failures',
    label: 'migration failures/s',
    color: '#ff5d73',
    // Failures come in bursts far above the promotion rate: their own axis.
    right: true,
  },
  { counter: 'pgdemote_kswapd', id: 'rate-demotions', label: 'demotions/s', color: '#ffb703' },
]

const state = {
  epoch: null,
  now: 0,
  nodes: [],
  /** pid → the process as the snapshot, then each `stats`, shows it. */
  processes: new Map(),
  counters: {},
  rates: {},
  sim: null,
  resumeMode: 'realtime',
  received: 0,
  stats: 0,
  lost: 0,
}

const threads = new ThreadCards($('threads'), () => state.now)
const numab = new NumabCard($('threads'))
const tunables = new TunablesForm($('tunables'))
const nodeList = new NodeList($('nodes'))
const stallBanner = new StallBanner($('stalls'))
/**
 * Processes that exited (or are being ended): a stats message sent before the exit must not
 * bring them back.
 */
const exited = new Set()
const processTable = new ProcessTable($('process-rows'), async (pid) => {
  exited.add(pid)
  try {
    await api('DELETE', `/processes/${pid}`)
  } catch (err) {
    exited.delete(pid)
    throw err
  }
  state.processes.delete(pid)
  renderProcesses()
})
const percent = (v) => `${+v.toFixed(1)}%`
const size = (v) => (v === 0 ? '0' : bytes(v))
const charts = {
  rates: new TimeChart($('chart-rates'), { y: 'pages / virtual s', y2: 'failures / virtual s' }),
  tiers: new TimeChart($('chart-tiers'), { y: 'memory', fmt: size }),
  quality: new TimeChart($('chart-quality'), {
    y: 'hit ratio',
    y2: 'latency (ns)',
    fmt: percent,
  }),
  scan: new TimeChart($('chart-scan'), { y: 'scan_period (ms)', y2: 'scan_size', fmt2: size }),
  cpu: new TimeChart($('chart-cpu'), { y: 'CPU (% of one)', fmt: percent }),
}
const THREAD_COLORS = { kscand: '#2dd4a7', kmigrated: '#4cc9f0' }

// ---- connection ---------------------------------------------------------------------------

function count() {
  body.dataset.received = String(++state.received)
}

function addLost(n) {
  state.lost += n
  body.dataset.lost = String(state.lost)
  setText($('lost'), `LOST ${state.lost.toLocaleString('en')} events`)
  $('lost').hidden = false
}

const main = new EventStream({
  subscription: { events: MAIN_EVENTS },
  onMessage: (m) => {
    count()
    onMain(m)
  },
  onStatus: (s, why) => {
    body.dataset.connection = s
    $('connection').dataset.state = s
    setText($('connection'), why ? `${s}: ${why}` : s)
  },
})

const tail = new Tail({ onLost: addLost, onMessage: count })

function onMain(m) {
  switch (m.type) {
    case 'snapshot':
      return loadSnapshot(m)
    case 'stats':
      return onStats(m)
    case 'batch':
      for (const e of m.events) onEvent(e)
      return tick(m.events.at(-1)?.ts / 1000)
    case 'heartbeat':
      return tick(m.now)
    case 'lost':
      return addLost(m.count)
  }
}

/** Virtual time moves on: events, heartbeats and stats each tell of it. */
function tick(now) {
  if (now > state.now) showClock(now)
}

function showClock(now) {
  state.now = now
  body.dataset.now = String(now)
  setText($('sim-now'), secs(now))
}

// ---- the state -----------------------------------------------------------------------------

function loadSnapshot(m) {
  // A daemon that restarted: its clock starts again, and its processes.
  if (m.epoch !== state.epoch) processTable.clear()
  state.epoch = m.epoch
  body.dataset.epoch = m.epoch
  showClock(m.now)
  state.nodes = m.nodes
  state.counters = m.counters
  state.rates = {}
  state.processes = new Map(m.processes.map((p) => [p.pid, p]))
  for (const t of m.threads) threads.update(t)
  tunables.load(m.tunables)
  renderProcesses()
  renderCounters()
  // The charts start from the oldest second the daemon keeps, whenever the page opened.
  loadHistory(m.history)
  loadSim()
}

function onStats(m) {
  body.dataset.stats = String(++state.stats)
  tick(m.now)
  state.counters = m.counters
  // Rates are null when virtual time stood still since the previous stats (paused).
  const moved = m.rates.pgpromote_success !== null
  if (moved) state.rates = m.rates
  for (const n of m.nodes) {
    const node = state.nodes.find((x) => x.id === n.id)
    if (node) node.free = n.free
  }
  for (const t of m.threads) threads.update(t)
  numab.update(m, state.rates)
  state.processes = new Map(m.processes.filter((p) => !exited.has(p.pid)).map((p) => [p.pid, p]))
  renderProcesses()
  renderCounters()
  appendHistory(m.history)
}

function onEvent(e) {
  const f = e.fields
  switch (e.event) {
    case 'kthread:kthread_start':
      return threads.setState(f.comm, 'running')
    case 'kthread:kthread_stop':
      return threads.setState(f.comm, 'stopped')
    case 'kthread:kthread_pause':
      return threads.setState(f.comm, 'paused')
    case 'sysfs:sysfs_write':
      if (tunables.has(f.path)) return tunables.refresh(f.path)
      if (f.path === '/sim') return simWritten(f.new)
      if (f.path.startsWith('/processes/') && f.new === 'exited') {
        return exited.add(Number(f.path.slice('/processes/'.length)))
      }
  }
}

// ---- rendering -----------------------------------------------------------------------------

/** Processes in pid order, which also gives each its colour in the charts. */
function processList() {
  return [...state.processes.values()].sort((a, b) => a.pid - b.pid)
}

function renderProcesses() {
  processTable.render(processList(), state.nodes)
  stallBanner.render(processList())
  nodeList.render(state.nodes)
}

const vmstatRows = new Map()

function renderCounters() {
  const tbody = $('vmstat')
  for (const [name, value] of Object.entries(state.counters)) {
    let r = vmstatRows.get(name)
    if (!r) {
      r = { value: el('td', { class: 'num' }), rate: el('td', { class: 'num' }) }
      tbody.append(
        el('tr', { dataset: { counter: name } }, el('th', { scope: 'row' }, name), r.value, r.rate),
      )
      vmstatRows.set(name, r)
    }
    setText(r.value, value.toLocaleString('en'))
    const rate = state.rates[name]
    setText(r.rate, rate === undefined || rate === null ? '—' : compact(rate))
  }
  for (const { counter, id } of RATES) {
    const rate = state.rates[counter]
    const known = rate !== undefined && rate !== null
    $(id).dataset.value = known ? String(rate) : ''
    setText($(id), known ? compact(rate) : '—')
  }
}

// ---- charts: the daemon's history (GET /sim/history), one point per virtual second ------

function loadHistory(h) {
  const series = historySeries(h)
  for (const [name, chart] of Object.entries(charts))
    chart.load(h.time_s, series[name], h.capacity_s)
}

/** Each chart's series, keyed, with one value per second of `h.time_s`. */
function historySeries(h) {
  const top = state.nodes.map((n) => n.toptier)
  const order = processList().map((p) => p.pid)
  const series = { rates: {}, tiers: {}, quality: {}, scan: {}, cpu: {} }
  for (const r of RATES) {
    series.rates[r.counter] = { ...r, dash: r.right, values: h.rates[r.counter] }
  }
  h.processes.forEach((p, i) => {
    const at = order.indexOf(p.pid)
    const color = PALETTE[(at < 0 ? i : at) % PALETTE.length]
    const tier = (onTop) =>
      h.time_s.map((_, j) => {
        if (p.pages_per_node[0][j] === null) return null
        return (
          p.pages_per_node.reduce((a, n, node) => a + (top[node] === onTop ? n[j] : 0), 0) * PAGE
        )
      })
    series.tiers[`${p.pid}:top`] = { label: `${p.comm} top`, color, values: tier(true) }
    series.tiers[`${p.pid}:slow`] = {
      label: `${p.comm} slow`,
      color,
      dash: true,
      values: tier(false),
    }
    series.quality[`${p.pid}:hit`] = {
      label: `${p.comm} hit`,
      color,
      values: p.top_tier_hit_ratio.map((v) => (v === null ? null : v * 100)),
    }
    series.quality[`${p.pid}:lat`] = {
      label: `${p.comm} latency`,
      color,
      dash: true,
      right: true,
      values: p.mean_latency_ns,
    }
    series.scan[`${p.pid}:period`] = { label: `${p.comm} period`, color, values: p.scan_period }
    series.scan[`${p.pid}:size`] = {
      label: `${p.comm} size`,
      color,
      dash: true,
      right: true,
      values: p.scan_size,
    }
  })
  Object.entries(h.cpu_percent).forEach(([name, values], i) => {
    const kswapd = !(name in THREAD_COLORS)
    const color = THREAD_COLORS[name] ?? PALETTE[(i + 2) % PALETTE.length]
    series.cpu[name] = { label: name, color, dash: kswapd, values }
  })
  return series
}

/**
 * The samples a `stats` brings that the charts do not have yet. The first stats after a
 * resume brings the whole history, the seconds the page was away included: drawn anew.
 */
function appendHistory(h) {
  if (h.time_s.length > 0 && h.time_s[0] <= charts.rates.first) return loadHistory(h)
  const from = h.time_s.findIndex((t) => t > charts.rates.last)
  if (from < 0) return
  const cut = (a) => a.slice(from)
  const newer = {
    ...h,
    time_s: cut(h.time_s),
    rates: Object.fromEntries(Object.entries(h.rates).map(([k, v]) => [k, cut(v)])),
    cpu_percent: Object.fromEntries(Object.entries(h.cpu_percent).map(([k, v]) => [k, cut(v)])),
    processes: h.processes.map((p) => ({
      ...p,
      pages_per_node: p.pages_per_node.map(cut),
      top_tier_hit_ratio: cut(p.top_tier_hit_ratio),
      mean_latency_ns: cut(p.mean_latency_ns),
      scan_period: cut(p.scan_period),
      scan_size: cut(p.scan_size),
    })),
  }
  const series = historySeries(newer)
  for (const [name, chart] of Object.entries(charts)) chart.append(newer.time_s, series[name])
}

// ---- simulated time ------------------------------------------------------------------------

async function loadSim() {
  try {
    showSim(await api('GET', '/sim'))
  } catch {
    // Shown as unknown until the next snapshot.
  }
}

/** A `/sim` write seen in the stream: `mode=paused speed=1`. */
function simWritten(text) {
  const m = /mode=(\S+) speed=(\S+)/.exec(text)
  if (m && state.sim) showSim({ ...state.sim, mode: m[1], speed: Number(m[2]) })
}

function showSim(sim) {
  state.sim = sim
  if (sim.mode !== 'paused') state.resumeMode = sim.mode
  const mode = $('sim-mode')
  mode.dataset.mode = sim.mode
  setText(mode, sim.mode)
  setText($('sim-pause'), sim.mode === 'paused' ? 'Resume' : 'Pause')
  const speed = $('sim-speed')
  if (![...speed.options].some((o) => Number(o.value) === sim.speed)) {
    speed.append(el('option', { value: String(sim.speed) }, `${sim.speed}×`))
  }
  speed.value = [...speed.options].find((o) => Number(o.value) === sim.speed).value
}

async function simCall(method, path, body) {
  setText($('sim-error'), '')
  try {
    showSim(await api(method, path, body))
  } catch (err) {
    setText($('sim-error'), err.message)
  }
}

$('sim-speed').addEventListener('change', (e) =>
  simCall('PUT', '/sim', { speed: Number(e.target.value) }),
)
$('sim-pause').addEventListener('click', () =>
  simCall('PUT', '/sim', { mode: state.sim?.mode === 'paused' ? state.resumeMode : 'paused' }),
)
$('sim').addEventListener('submit', async (e) => {
  e.preventDefault()
  const button = $('sim-step')
  button.disabled = true
  await simCall('POST', '/sim/step', { ms: Number($('sim-step-ms').value) })
  button.disabled = false
})

// ---- writes that need a token --------------------------------------------------------------

auth.onNeeded = () => {
  $('token-form').hidden = false
  $('token').focus()
}
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault()
  auth.set($('token').value)
  setText($('token-status'), 'token set: repeat the write')
})

spawnForm($('spawn'), $('spawn-status'), (p) => {
  state.processes.set(p.pid, { ...p, toptier_share: null })
  renderProcesses()
})

requestAnimationFrame(function frame() {
  tail.render()
  requestAnimationFrame(frame)
})
main.start()
tail.start()
experimentsPanel({ state: $('reports-state'), list: $('reports'), refresh: $('reports-refresh') })
