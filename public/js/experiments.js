/**
 * The Experiments panel: a link that downloads this session as a scenario (GET
 * /sim/scenario, which `kscand-sim run` replays into the same trace) and the newest runs
 * `kscand-sim run` wrote under the daemon's REPORTS_DIR (GET /sim/reports), read once when
 * the page loads and again on Refresh — never polled.
 */
import { api } from './api.js'
import { el, secs } from './dom.js'

/** @param {{state: HTMLElement, list: HTMLElement, refresh: HTMLElement}} parts */
export function experimentsPanel({ state, list, refresh }) {
  async function load() {
    state.textContent = 'loading the reports…'
    let data
    try {
      data = await api('GET', '/sim/reports')
    } catch (err) {
      state.textContent = `the reports cannot be listed: ${err.message}`
      return
    }
    list.replaceChildren(
      ...data.reports.map((r) => {
        const base = `/sim/reports/${encodeURIComponent(r.name)}/`
        const link = (file, label) =>
          r.files.includes(file)
            ? el('a', { href: base + file, target: '_blank', rel: 'noopener' }, label)
            : null
        return el(
          'li',
          { dataset: { name: r.name } },
          el('strong', {}, r.scenario),
          ` ${secs(r.virtual_ms)} virtual (${r.ended ?? '?'}), seed ${r.seed ?? '?'}, ${r.written_at} `,
          link('report.html', 'report'),
          ' ',
          link('summary.json', 'summary.json'),
        )
      }),
    )
    state.textContent = !data.reports_dir_set
      ? 'No reports: the daemon has no REPORTS_DIR.'
      : data.reports.length === 0
        ? 'No runs in REPORTS_DIR yet (kscand-sim run SCENARIO --out REPORTS_DIR/NAME).'
        : `The newest ${data.reports.length} runs in REPORTS_DIR:`
  }
  refresh.addEventListener('click', load)
  return load()
}
