/**
 * Regenerates docs/report.png, the README's screenshot of a report: runs a scenario (by
 * default examples/sticky-slot.yaml) into a temporary folder as `kscand-sim run` does, and
 * opens its report.html from disk in Debian's Chromium with the network off (the browser
 * setup of test/experiments/report-browser.test.ts).
 *
 *   npm run report-screenshot [-- out.png [scenario.yaml [width]]]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { loadScenario } from '../src/experiments/load.ts'
import { runInto } from '../src/experiments/run.ts'
import { offline, openBrowser, screenshotPage } from '../test/helpers/browser.ts'

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/report.png', import.meta.url))
const file =
  process.argv[3] ?? fileURLToPath(new URL('../examples/sticky-slot.yaml', import.meta.url))
const width = Number(process.argv[4] ?? 1440)

const dir = mkdtempSync(join(tmpdir(), 'kscand-sim-report-'))
const browser = await openBrowser({ width, height: 900 })
try {
  runInto(loadScenario(file), dir)
  const { page } = browser
  await offline(page)
  await page.goto(pathToFileURL(join(dir, 'report.html')).href)
  await page.locator('canvas[data-drawn="1"]').first().waitFor()
  await screenshotPage(browser, out, width)
} finally {
  await browser.close()
  rmSync(dir, { recursive: true, force: true })
}
