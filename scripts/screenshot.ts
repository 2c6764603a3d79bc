/**
 * Regenerates docs/dashboard.png, the README's screenshot: the demo machine, the dashboard in
 * Debian's Chromium on a non-localhost origin (the browser setup of test/public/dashboard.test.ts),
 * and the first six virtual seconds stepped with the page's own controls, with the
 * sticky-slot quirk switched off from the tunables form so that kmigrated serves every mm.
 *
 *   npm run screenshot [-- out.png [width]]
 */
import { fileURLToPath } from 'node:url'
import {
  buildDaemon,
  dashboardUrl,
  openBrowser,
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
  const sticky = page.locator(
    'form.tunable[data-path="/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot"]',
  )
  await sticky.locator('input').fill('0')
  await sticky.locator('input').press('Enter')
  await sticky.locator('.status[data-kind="ok"]').waitFor()
  // kscand's scans in the tail, rather than the script's own /sim/step writes.
  await page.fill('#tail-filter', 'kmem_mm_*,kmem_scan_mm_end,kthread_st*')
  await page.press('#tail-filter', 'Enter')
  // Until memcached's promotions run into node 1's watermark and fail.
  for (let t = 0; t < 6000; t += 250) await step(page, 250)
  // The whole page in one viewport, so that the sticky header stays at the top.
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number
  await page.setViewportSize({ width, height })
  await page.screenshot({ path: out })
  if (browser.errors.length > 0) throw new Error(`console errors: ${browser.errors.join('; ')}`)
  process.stdout.write(`wrote ${out}\n`)
} finally {
  await browser.close()
  await daemon.close()
}
