/**
 * The banner at the top of the page that says why promotions stall: one line per process
 * whose slow-tier pages kmigrated does not promote (the `stall` that `stats` carries for it,
 * the kernel's diagnosis: docs/simulation.md, "When promotions stall"), then each switch that
 * ends a stall once, in words and, when it is one request, as the curl line that flips it.
 */
import { auth } from './api.js'
import { el } from './dom.js'

/** The curl command of a `remedy_request` against this daemon. */
export function curlLine({ method, path, body }) {
  const header = auth.token ? ` -H 'Authorization: Bearer $KSCAND_SIM_TOKEN'` : ''
  const data = body === null ? '' : ` -d ${body}`
  return `curl -X ${method}${header}${data} ${location.origin}${path}`
}

export class StallBanner {
  /** @param {HTMLElement} root the banner; hidden while nothing stalls */
  constructor(root) {
    this.root = root
    this.list = root.querySelector('.stall-list')
    this.remedies = root.querySelector('.stall-remedies')
    this.shown = ''
  }

  /** Shows the stalls of `procs` (as `stats` carries them, in pid order). */
  render(procs) {
    const stalled = procs.filter((p) => p.stall)
    const key = JSON.stringify(stalled.map((p) => [p.pid, p.comm, p.stall]))
    if (key === this.shown) return
    this.shown = key
    this.root.hidden = stalled.length === 0
    this.list.replaceChildren(
      ...stalled.map((p) =>
        el(
          'li',
          { dataset: { pid: p.pid, cause: p.stall.cause } },
          el('strong', {}, `${p.comm} (pid ${p.pid})`),
          `: promotions stalled (${p.stall.cause}): ${p.stall.reason}.`,
        ),
      ),
    )
    const remedies = new Map()
    for (const { stall } of stalled) {
      if (stall.remedy) remedies.set(stall.remedy, stall.remedy_request)
    }
    this.remedies.replaceChildren(
      ...[...remedies].map(([remedy, request]) => {
        const curl = request && [':', el('br'), el('code', { class: 'curl' }, curlLine(request))]
        return el('li', {}, 'To end it: ', el('code', {}, remedy), curl || '.')
      }),
    )
  }
}
