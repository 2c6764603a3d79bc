/**
 * The dashboard in Debian's Chromium, against the demo machine on a real port, opened on a
 * non-localhost origin (http://kscand.test:PORT/). Virtual time only moves when the page's
 * own Step button (or the test) steps it, so every check waits for a condition in the page,
 * never for the simulation: in the demo, kmigrated promotes gups's hot pages from t = 2 s
 * to t = 4.75 s, and nothing else promotes in the first minute.
 *
 * The steps run in order and share one page, as a user would use it.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { parseScenario } from '../../src/experiments/load.ts'
import { runInto } from '../../src/experiments/run.ts'
import { Scenario } from '../../src/schemas/scenario.ts'
import {
  type Browser,
  bodyData,
  buildDaemon,
  type Daemon,
  dashboardUrl,
  openBrowser,
  step as stepPage,
  waitForBody,
} from '../helpers/browser.ts'
import { SMALL } from '../helpers/kernel.ts'
import { SMALL_PROCESS } from '../helpers/process.ts'

const STICKY = '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot'
/** The stream's stats interval. */
const STATS_MS = 500
/** Bound on every wait for the page. */
const WAIT = { timeout: 20_000 }

/** Chromium logs every 4xx answer to fetch() as a console error; the page cannot prevent it. */
const REJECTED_WRITE =
  'Failed to load resource: the server responded with a status of 400 (Bad Request)'
const UNAUTHORIZED =
  'Failed to load resource: the server responded with a status of 401 (Unauthorized)'

let browser: Browser
let page: Page
let daemon: Daemon
let port: number
let reportsDir: string

const body = () => bodyData(page)
const tunable = (path: string) => page.locator(`form.tunable[data-path="${path}"]`)
const read = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).text()
const step = (ms: number) => stepPage(page, ms)
const rate = async (id: string) => Number(await page.locator(`#${id}`).getAttribute('data-value'))

describe('the README', () => {
  it('shows the dashboard screenshot that npm run screenshot writes', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    expect(readme).toMatch(/^## Dashboard$/m)
    expect(readme).toContain('](docs/dashboard.png)')
    const png = readFileSync(new URL('../../docs/dashboard.png', import.meta.url))
    expect(png.subarray(1, 4).toString()).toBe('PNG')
  })
})

describe('the dashboard in Chromium', () => {
  beforeAll(async () => {
    reportsDir = mkdtempSync(join(tmpdir(), 'kscand-sim-reports-'))
    runInto(
      parseScenario(
        JSON.stringify({
          machine: { topology: SMALL, processes: [SMALL_PROCESS] },
          duration_ms: 200,
        }),
        'sticky.json',
      ),
      join(reportsDir, 'sticky'),
    )
    daemon = await buildDaemon({ mode: 'paused', statsMs: STATS_MS, reportsDir })
    port = await daemon.listen()
    browser = await openBrowser()
    page = browser.page
    await page.goto(dashboardUrl(port))
  })

  afterAll(async () => {
    await browser?.close()
    await daemon?.close()
    rmSync(reportsDir, { recursive: true, force: true })
  })

  it('takes the snapshot and subscribes, on a non-localhost origin', async () => {
    await waitForBody(page, (d) => d.connection === 'live' && Number(d.stats) > 0, 'the stream')
    expect(page.url()).toBe(`http://kscand.test:${port}/`)
    for (const name of ['kscand', 'kmigrated']) {
      expect(await page.locator(`#thread-${name}`).getAttribute('data-state')).toMatch(
        /^(running|sleeping)$/,
      )
    }
    expect(await page.locator('#process-rows tr').count()).toBe(3)
    expect(await page.locator('#process-rows td[data-col="workload"]').allTextContents()).toEqual([
      'zipf θ=0.99',
      'hotset 10% (90% of accesses, shifts at 20 s)',
      'uniform',
    ])
    expect(await tunable('/sys/kernel/mm/kscand/scan_sleep_ms').getAttribute('data-value')).toBe(
      '20',
    )
    // uPlot came from the daemon, not a CDN: five charts are drawn.
    expect(await page.locator('.chart canvas').count()).toBe(5)
    expect(await page.locator('#tail-state').textContent()).toBe('live')
  })

  it('is keyboard reachable: Tab gets to the thread buttons', async () => {
    const focused = () => page.evaluate('document.activeElement.id')
    for (let i = 0; i < 20 && (await focused()) !== 'thread-kmigrated-toggle'; i++) {
      await page.keyboard.press('Tab')
    }
    expect(await focused()).toBe('thread-kmigrated-toggle')
  })

  it('fits a laptop screen and a phone-width one: only wide tables scroll, in their box', async () => {
    const overflow = () =>
      page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    try {
      for (const viewport of [
        { width: 1366, height: 768 },
        { width: 390, height: 844 },
      ]) {
        await page.setViewportSize(viewport)
        // The charts follow the new width from a ResizeObserver callback, a frame or more after
        // the resize: what must hold is the settled layout, not the frame in between.
        await expect.poll(overflow, { message: `${viewport.width} px`, timeout: 5_000 }).toBe(0)
        for (const id of ['thread-kmigrated-toggle', 'sim-step', 'spawn']) {
          const box = await page.locator(`#${id}`).boundingBox()
          expect(box, id).not.toBeNull()
          expect((box?.x ?? 0) + (box?.width ?? 0), id).toBeLessThanOrEqual(viewport.width)
        }
      }
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 })
    }
  })

  it('shows values arriving and changing as virtual time moves', async () => {
    const before = await body()
    const promoted = () => page.locator('#vmstat tr[data-counter="pgpromote_success"] td').first()
    expect(await promoted().textContent()).toBe('0')
    await step(2500)
    const after = await body()
    expect(Number(after.received)).toBeGreaterThan(Number(before.received))
    expect(Number(after.now)).toBeGreaterThanOrEqual(2500)
    expect(Number((await promoted().textContent())?.replace(/,/g, ''))).toBeGreaterThan(0)
    expect(await rate('rate-promotions')).toBeGreaterThan(0)
    // kscand's first scans are in the tail.
    await page.waitForSelector('#tail-rows tr[data-event="kmem:kmem_scan_mm_end"]', WAIT)
    await expect.poll(() => page.locator('#thread-kscand dd').nth(1).textContent()).not.toBe('0')
  })

  it('says why memcached waits: the sticky slot, and the switch that ends it', async () => {
    // memcached's first scan (t ≈ 2.5 s) queues its hot pages; kmigrated drains only gups.
    const now = Number((await body()).now)
    if (now < 3000) await step(3000 - now)
    const line = page.locator('#stalls li[data-pid="1000"]')
    await line.waitFor({ state: 'visible', ...WAIT })
    const text = await line.textContent()
    expect(text).toContain('memcached (pid 1000): promotions stalled (sticky_slot)')
    expect(text).toContain('kmigrated drains only pid 1001 (gups)')
    // The switch once, for memcached and backup alike, with the curl line that flips it.
    const remedies = page.locator('#stalls .stall-remedies li')
    expect(await remedies.count()).toBe(1)
    expect(await remedies.textContent()).toContain(
      'To end it: write 0 to /sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot',
    )
    expect(await remedies.locator('code.curl').textContent()).toBe(
      `curl -X PUT -d 0 http://kscand.test:${port}${STICKY}`,
    )
    // It is the first thing on the page, under the header.
    expect(await page.locator('#main > section').first().getAttribute('id')).toBe('stalls')
    const badge = (pid: number) => page.locator(`#process-rows tr[data-pid="${pid}"] .stalled`)
    expect(await badge(1000).isVisible()).toBe(true)
    expect(await badge(1001).isVisible()).toBe(false)
    expect(await page.locator('#stalls li[data-pid="1001"]').count()).toBe(0)
  })

  it('stops kmigrated from its button: the card says stopped, promotions fall to zero', async () => {
    expect(await rate('rate-promotions')).toBeGreaterThan(0)
    // With the faithful sticky-slot quirk kmigrated only ever drains gups, whose list its stop
    // finishes: switch the quirk off, so that other mms' queued pages wait for kmigrated.
    const sticky = tunable(STICKY)
    await sticky.locator('input').fill('0')
    await sticky.locator('input').press('Enter')
    await expect.poll(() => sticky.getAttribute('data-value'), WAIT).toBe('0')

    await page.click('#thread-kmigrated-toggle')
    await page.waitForSelector('#thread-kmigrated[data-state="stopped"]', WAIT)
    expect(await page.locator('#thread-kmigrated .badge').textContent()).toBe('stopped')
    expect(await page.locator('#thread-kmigrated-toggle').textContent()).toBe('Start kmigrated')
    // kthread_stop() waits for kmigrated to finish the list it is draining: those promotions
    // happen at the stop. Two stats later (the first may have been sampled before the stop),
    // they are behind the rate's window, and the step shows only what follows the stop.
    const { stats } = await body()
    await waitForBody(page, (d) => Number(d.stats) >= Number(stats) + 2, 'stats after the stop')
    await step(1000)
    expect(await rate('rate-promotions')).toBe(0)
    // Not the end of the work: memcached's hot pages are still queued.
    const pending = page.locator('#process-rows tr[data-pid="1000"] td[data-col="pending"]')
    expect(Number((await pending.textContent())?.replace(/,/g, ''))).toBeGreaterThan(0)
    // The banner says why, and how to start it again.
    const stopped = page.locator('#stalls li[data-pid="1000"][data-cause="kmigrated_stopped"]')
    await stopped.waitFor({ state: 'visible', ...WAIT })
    expect(await page.locator('#stalls .stall-remedies code.curl').allTextContents()).toEqual([
      `curl -X POST http://kscand.test:${port}/threads/kmigrated/start`,
    ])

    await page.click('#thread-kmigrated-toggle')
    await page.waitForSelector('#thread-kmigrated:not([data-state="stopped"])', WAIT)
    await step(500)
    expect(await rate('rate-promotions')).toBeGreaterThan(0)
  })

  it('shows the kernel error for an invalid tunable, and the value stays', async () => {
    const row = tunable('/sys/kernel/mm/kscand/scan_sleep_ms')
    await row.locator('input').fill('0x10')
    await row.locator('input').press('Enter')
    await page.waitForSelector(
      'form.tunable[data-path="/sys/kernel/mm/kscand/scan_sleep_ms"] .status[data-kind="error"]',
      WAIT,
    )
    expect(await row.locator('.status').textContent()).toContain('Invalid argument')
    expect(await row.getAttribute('data-value')).toBe('20')
    expect(await row.locator('input').inputValue()).toBe('20')
    expect(await read('/sys/kernel/mm/kscand/scan_sleep_ms')).toBe('20\n')
  })

  it('round-trips a valid edit to GET /sys/..., shows a clamped one, follows other writers', async () => {
    const sleep = tunable('/sys/kernel/mm/kscand/scan_sleep_ms')
    await sleep.locator('input').fill('50')
    await sleep.locator('button').click()
    await expect.poll(() => sleep.locator('.status').textContent(), WAIT).toBe('set to 50')
    expect(await read('/sys/kernel/mm/kscand/scan_sleep_ms')).toBe('50\n')

    const period = tunable('/sys/kernel/mm/kscand/mm_scan_period_ms')
    await period.locator('input').fill('5000000')
    await period.locator('input').press('Enter')
    await expect.poll(() => period.locator('.status').textContent(), WAIT).toBe('clamped to 5000')
    expect(await period.getAttribute('data-value')).toBe('5000')
    expect(await read('/sys/kernel/mm/kscand/mm_scan_period_ms')).toBe('5000\n')

    // A write by someone else reaches the page through the stream (sysfs:sysfs_write).
    await fetch(`http://127.0.0.1:${port}/sys/kernel/mm/kmigrated/kmigrate_sleep_ms`, {
      method: 'PUT',
      body: '75',
    })
    await expect
      .poll(
        () => tunable('/sys/kernel/mm/kmigrated/kmigrate_sleep_ms').getAttribute('data-value'),
        WAIT,
      )
      .toBe('75')
  })

  it('spawns a process from the form and ends it from its row', async () => {
    await page.fill('#spawn input[name="comm"]', 'redis')
    await page.click('#spawn button[type="submit"]')
    await expect
      .poll(() => page.locator('#spawn-status').textContent(), WAIT)
      .toMatch(/^spawned redis/)
    const row = page.locator('#process-rows tr', { hasText: 'redis' })
    await row.waitFor(WAIT)
    const pid = Number(await row.getAttribute('data-pid'))
    expect(daemon.kernel.processList().map((p) => p.pid)).toContain(pid)
    await row.locator('button[data-action="exit"]').click()
    await row.waitFor({ state: 'detached', ...WAIT })
    expect(daemon.kernel.processList().map((p) => p.pid)).not.toContain(pid)
  })

  it('has an Experiments panel: the session downloads as a scenario, the runs are listed', async () => {
    const panel = page.locator('#experiments')
    await expect.poll(() => panel.locator('#reports li').count(), WAIT).toBe(1)
    const run = panel.locator('#reports li[data-name="sticky"]')
    expect(
      await run.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ).toEqual(['/sim/reports/sticky/report.html', '/sim/reports/sticky/summary.json'])
    const href = await panel.locator('#scenario-download').getAttribute('href')
    expect(href).toBe('/sim/scenario')
    // The link as the page's origin fetches it: the session so far, spawn and exit included.
    const got = await page.evaluate(async (url) => {
      const res = await fetch(url)
      return {
        status: res.status,
        disposition: res.headers.get('content-disposition'),
        text: await res.text(),
      }
    }, href as string)
    expect(got.status).toBe(200)
    expect(got.disposition).toBe('attachment; filename="kscand-sim-session.yaml"')
    const scenario = Scenario.parse(parseYaml(got.text))
    expect(scenario.seed).toBe(42)
    expect(scenario.duration_ms).toBe(daemon.kernel.now)
    expect(scenario.timeline.map((c) => c.do)).toEqual(expect.arrayContaining(['spawn', 'exit']))
  })

  it('shows NUMA balancing beside kscand: the mode, hint faults/s, thresholds, time to finish', async () => {
    await waitForBody(page, (d) => d.connection === 'live' && Number(d.stats) > 0, 'the stream')
    const card = page.locator('#numab')
    await expect.poll(() => card.getAttribute('data-mode'), WAIT).toBe('0')
    expect(await page.locator('#numab-thresholds').textContent()).toBe(
      'node0 1000 ms, node1 1000 ms',
    )
    // The demo's processes all have numactl policies, which task_numa_work skips: a closed
    // loop under the default policy with its pages on CXL (node 2), slow enough (4000
    // accesses/s over 16 384 pages) that its hint faults spread over the seconds after a scan.
    const spawned = await fetch(`http://127.0.0.1:${port}/processes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        comm: 'abench',
        size: 64 * 2 ** 20,
        policy: { mode: 'local', mem_node: 2 },
        closed_loop: { threads: 1, think_ns: 250_000, accesses: 16_000 },
      }),
    })
    expect(spawned.status).toBe(201)
    const { pid } = (await spawned.json()) as { pid: number }
    const cell = (col: string) =>
      page.locator(`#process-rows tr[data-pid="${pid}"] td[data-col="${col}"]`)
    await expect.poll(() => cell('finish').textContent(), WAIT).toBe('0.0% done')
    expect(await cell('numab').textContent()).toBe('—')

    // curl -d 2 http://…/proc/sys/kernel/numa_balancing
    const write = await fetch(`http://127.0.0.1:${port}/proc/sys/kernel/numa_balancing`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '2',
    })
    expect(write.status).toBe(200)
    await expect.poll(() => card.getAttribute('data-mode'), WAIT).toBe('2')
    expect(await card.locator('.badge').textContent()).toBe('2: MEMORY_TIERING')

    // The first scan comes ≈ 1 s of CPU time plus 1 s after exec; its hint faults follow.
    await step(3000)
    expect(await rate('numab-hint-faults')).toBeGreaterThan(0)
    const faults = page.locator('#vmstat tr[data-counter="numa_hint_faults"] td').first()
    expect(Number((await faults.textContent())?.replace(/,/g, ''))).toBeGreaterThan(0)
    // DRAM has room, so pgdat_free_space_enough() promotes without counting candidates.
    expect(await rate('numab-candidates')).toBe(0)
    expect(Number.parseFloat((await cell('numab').textContent()) ?? '')).toBeGreaterThan(0)
    // The budget is spent ≈ 4.2 s after exec (the stalls of the faults included): the row
    // says when.
    await step(1500)
    expect(await cell('finish').textContent()).toMatch(/^4\.\d{3} s$/)
  })

  it('shows the tail as trace_pipe text', async () => {
    await page.check('input[name="view"][value="text"]')
    await page.waitForSelector('#trace-pipe:not([hidden])', WAIT)
    await step(2000)
    await expect
      .poll(() => page.locator('#trace-pipe').textContent(), WAIT)
      .toMatch(/kscand-90 +\[000\] \.{5} +\d+\.\d{6}: kmem_scan_mm_end: mm=[0-9a-f]{16}, start = /)
  })

  it('shows LOST when the browser falls behind the tail it asked for', async () => {
    await page.check('input[name="view"][value="json"]')
    await page.fill('#tail-filter', 'kmem:*')
    await page.press('#tail-filter', 'Enter')
    await expect.poll(() => page.locator('#tail-state').textContent(), WAIT).toBe('live')
    // A slow machine: the renderer at a fiftieth of its speed, while kscand emits
    // kmem_scan_mm_start (~200 000 events per virtual second in the demo) for one second.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 50 })
    try {
      // Stepped by the test: the throttled page would take long to click its own button.
      const res = await fetch(`http://127.0.0.1:${port}/sim/step`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ms: 1000 }),
      })
      expect(res.status).toBe(200)
    } finally {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 })
    }
    await waitForBody(page, (d) => Number(d.lost) > 0, 'lost events')
    expect(await page.locator('#lost').isVisible()).toBe(true)
    expect(await page.locator('#lost').textContent()).toMatch(/^LOST [\d,]+ events$/)
    await expect
      .poll(() => page.locator('#tail-rows tr.mark.lost').first().textContent(), WAIT)
      .toMatch(/^CPU:0 \[LOST \d+ EVENTS\]$/)
    await page.fill('#tail-filter', 'sysfs:*')
    await page.press('#tail-filter', 'Enter')
  })

  it('recovers after a daemon restart: reconnecting, then a fresh snapshot', async () => {
    const next = await buildDaemon({ mode: 'paused', statsMs: STATS_MS })
    const { epoch, stats } = await body()
    await daemon.close()
    daemon = next
    await waitForBody(page, (d) => d.connection === 'reconnecting', 'reconnecting')
    expect(await page.locator('#connection').textContent()).toMatch(/^reconnecting/)
    await daemon.listen(port)
    await waitForBody(
      page,
      (d) => d.epoch !== epoch && d.connection === 'live' && Number(d.stats) > Number(stats),
      'a fresh snapshot from the new daemon',
    )
    // The new daemon's state: its clock, its threads, its tunables.
    expect(Number((await body()).now)).toBeLessThan(1000)
    expect(await page.locator('#thread-kmigrated').getAttribute('data-state')).toMatch(
      /^(running|sleeping)$/,
    )
    expect(await tunable('/sys/kernel/mm/kscand/scan_sleep_ms').getAttribute('data-value')).toBe(
      '20',
    )
    await expect.poll(() => page.locator('#tail-state').textContent(), WAIT).toBe('live')
    await step(2500)
    expect(await rate('rate-promotions')).toBeGreaterThan(0)
  })

  it('asks for the write token when the daemon wants one', async () => {
    const guarded = await buildDaemon({ token: 'dashboard-test-token' })
    try {
      await page.goto(dashboardUrl(await guarded.listen()))
      await waitForBody(page, (d) => d.connection === 'live' && Number(d.stats) > 0, 'the stream')
      expect(await page.locator('#token-form').isVisible()).toBe(false)
      await page.click('#thread-kscand-toggle')
      await page.locator('#token-form').waitFor(WAIT)
      await expect
        .poll(() => page.locator('#thread-kscand .error').textContent(), WAIT)
        .toContain('Permission denied')
      expect(await page.locator('#thread-kscand').getAttribute('data-state')).not.toBe('stopped')
      await page.fill('#token', 'dashboard-test-token')
      await page.press('#token', 'Enter')
      await page.click('#thread-kscand-toggle')
      await page.waitForSelector('#thread-kscand[data-state="stopped"]', WAIT)
    } finally {
      // Away first, so that the page does not try to reconnect to a closed daemon.
      await page.goto('about:blank')
      await guarded.close()
    }
  })

  it('logged no console errors but those of the refused writes', () => {
    expect(browser.errors).toEqual([
      `${REJECTED_WRITE} (/sys/kernel/mm/kscand/scan_sleep_ms)`,
      `${UNAUTHORIZED} (/threads/kscand/stop)`,
    ])
  })

  it('read the live state from the stream alone: no polling of the REST API', () => {
    const reads = browser.requests.filter((r) => /^GET \/(threads|processes)/.test(r))
    expect(reads).toEqual([])
    // What it did read: the page, its assets, and /sim after each snapshot.
    expect(browser.requests.filter((r) => r.startsWith('GET /sim'))).not.toEqual([])
  })
})

describe('the default demo, as npm start runs it (realtime at 1×)', () => {
  let live: Daemon | undefined
  let chromium: Browser | undefined

  afterAll(async () => {
    await chromium?.close()
    await live?.close()
  })

  it('explains the stalled promotions within 10 s, and its curl line ends the stall', async () => {
    chromium = await openBrowser()
    // The clock starts with the daemon: from here to the explanation on the page.
    const start = Date.now()
    live = await buildDaemon({ mode: 'realtime', speed: 1 })
    const livePort = await live.listen()
    const { page } = chromium
    await page.goto(dashboardUrl(livePort))
    const line = page.locator('#stalls li[data-pid="1000"][data-cause="sticky_slot"]')
    await line.waitFor({ state: 'visible', timeout: 10_000 })
    expect(Date.now() - start).toBeLessThan(10_000)
    expect(await line.isVisible()).toBe(true)
    expect(await line.textContent()).toContain('kmigrated drains only pid 1001 (gups)')
    const curl = await page.locator('#stalls .stall-remedies code.curl').textContent()
    expect(curl).toBe(`curl -X PUT -d 0 http://kscand.test:${livePort}${STICKY}`)

    // The line as a user would paste it (curl resolving the page's host name as Chromium does).
    const args = (curl ?? '').split(' ').slice(1)
    const out = await promisify(execFile)('curl', [
      '-s',
      '--resolve',
      `kscand.test:${livePort}:127.0.0.1`,
      ...args,
    ])
    expect(out.stdout).toBe('0\n')
    expect(live.kernel.quirks.kmigrated_sticky_slot).toBe(false)
    // kmigrated goes round-robin: no process waits behind another any more.
    await page.locator('#stalls').waitFor({ state: 'hidden', timeout: 10_000 })
    expect(chromium.errors).toEqual([])
  })
})

describe('the dashboard opened on a daemon that has run for a while', () => {
  let late: Daemon
  let view: Browser
  afterAll(async () => {
    await view?.close()
    await late?.close()
  })

  it('draws every chart from t ≈ 0 at once, over virtual time, then goes on', async () => {
    late = await buildDaemon({ mode: 'paused', statsMs: STATS_MS })
    late.kernel.run(120_000)
    view = await openBrowser()
    await view.page.goto(dashboardUrl(await late.listen()))
    await waitForBody(view.page, (d) => d.connection === 'live', 'the stream')
    const charts = () =>
      view.page.evaluate(
        "[...document.querySelectorAll('.chart')].map((c) => ({ id: c.id, ...c.dataset }))",
      ) as Promise<Record<string, string>[]>
    const drawn = await charts()
    expect(drawn.map((c) => c.id)).toEqual([
      'chart-rates',
      'chart-tiers',
      'chart-quality',
      'chart-scan',
      'chart-cpu',
    ])
    for (const c of drawn) {
      // Seconds 1 to 120 of virtual time, every series with a value from the first.
      expect([c.id, c.points, c.first, c.last]).toEqual([c.id, '120', '1', '120'])
      expect(Number(c.series), c.id).toBeGreaterThan(0)
      expect(c.filled, c.id).toBe(c.series)
    }
    // Three processes, two series each; kscand, kmigrated and two kswapd.
    expect(drawn.map((c) => Number(c.series))).toEqual([3, 6, 6, 6, 4])
    // The legend (the newest point): virtual seconds, sizes in MiB/GiB, CPU in %.
    const legend = (id: string) => view.page.locator(`#${id} .u-legend .u-value`).allTextContents()
    const tiers = await legend('chart-tiers')
    expect(tiers[0]).toBe('120 s')
    for (const v of tiers.slice(1)) expect(v).toMatch(/^\d+(\.\d+)? [KMG]iB$|^0$/)
    const cpu = await legend('chart-cpu')
    expect(cpu[0]).toBe('120 s')
    for (const v of cpu.slice(1)) expect(v).toMatch(/^\d+(\.\d+)?%$/)

    // Live seconds append to the history: two more virtual seconds, two more points.
    await stepPage(view.page, 2000)
    await expect
      .poll(async () => (await charts()).map((c) => [c.first, c.last, c.points]), WAIT)
      .toEqual(drawn.map(() => ['1', '122', '122']))
    expect(view.errors).toEqual([])
  })
})
