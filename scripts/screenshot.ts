/**
 * Regenerates docs/dashboard.png, the README's screenshot: the demo machine, the dashboard in
 * Debian's Chromium on a non-localhost origin (the browser setup of test/public/dashboard.test.ts),
 * and the first ten virtual seconds stepped with the page's own controls. The defaults are
 * left as they are, faithful to V3: kmigrated drains only gups (the sticky slot), and the
 * banner at the top says why memcached's and backup's pages wait and how to switch it off.
 *
 *   npm run screenshot [-- out.png [width]]
 */
import { fileURLToPath } from 'node:url'
import {
  buildDaemon,
  dashboardUrl,
  openBrowser,
  screenshotPage,
  step,
  waitForBody,
} from '../test/helpers/browser.ts'

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/dashboard.png', import.meta.url))
const width = Number(process.argv[3] ?? 1440)

const daemon = await buildDaemon({ mode: 'paused', statsMs: 200 })
const browser = await openBrowser({ width, height: 900 })
try {
  const port = await daemon.listen()
  const { page } = browser
  await page.goto(dashboardUrl(port))
  await waitForBody(page, (d) => d.connection === 'live' && Number(d.stats) > 0, 'the stream')
  // kscand's scans in the tail, rather than the script's own /sim/step writes.
  await page.fill('#tail-filter', 'kmem_mm_*,kmem_scan_mm_end,kthread_st*')
  await page.press('#tail-filter', 'Enter')
  // gups's hot pages are promoted by t ≈ 5 s; memcached's and backup's wait behind them.
  for (let t = 0; t < 10_000; t += 250) await step(page, 250)
  await page.locator('#stalls li[data-cause="sticky_slot"]').first().waitFor()
  await screenshotPage(browser, out, width)
} finally {
  await browser.close()
  await daemon.close()
}
