/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (never a
 * browser download), on a non-localhost origin (`kscand.test`, mapped to 127.0.0.1 inside
 * Chromium, so the page is not a "potentially trustworthy" localhost origin and gets the
 * same CSP treatment as on a real host), and the daemon it talks to: the production plugins
 * (ops: helmet's CSP among them) and the app, on a real 127.0.0.1 port.
 *
 * Used by test/public/dashboard.test.ts and scripts/screenshot.ts, so the README's screenshot is
 * made exactly as the test sees the page.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { Lifecycle } from '../../src/daemon/lifecycle.ts'
import { VERSION } from '../../src/daemon/version.ts'
import { type RunMode, SimRunner } from '../../src/host/runner.ts'
import { type BrowserPolicy, LOOPBACK_POLICY } from '../../src/http/browsers.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../../src/kernel/demo.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { DEFAULT_TOPOLOGY } from '../../src/kernel/machine.ts'
import { Metrics } from '../../src/metrics/metrics.ts'
import { appServer } from './app.ts'

export const CHROMIUM = '/usr/bin/chromium'
/** The page's host name; Chromium resolves it to 127.0.0.1 (--host-resolver-rules). */
export const HOST = 'kscand.test'

export interface Browser {
  readonly page: Page
  /** Console errors (with the path of the script or resource) and uncaught errors, in order. */
  readonly errors: string[]
  /** Every request the page made, as `METHOD /path`. */
  readonly requests: string[]
  close(): Promise<void>
}

/** Headless Chromium with a fresh profile, and one page whose errors are collected. */
export async function openBrowser(viewport = { width: 1440, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `missing ${CHROMIUM}: install the Debian package chromium (apt-get install chromium)`,
    )
  }
  const profile = mkdtempSync(join(tmpdir(), 'kscand-sim-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        // This machine's network is closed: no background requests to Google's hosts.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
      ],
    })
  } catch (err) {
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: string[] = []
  const requests: string[] = []
  const path = (url: string) => (url.startsWith('http') ? new URL(url).pathname : url)
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${path(m.location().url)})`)
  })
  page.on('request', (r) => requests.push(`${r.method()} ${path(r.url())}`))
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`))
  return {
    page,
    errors,
    requests,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** The daemon answers to the page's host name, as ALLOWED_HOSTS=kscand.test would make it. */
const BROWSERS: BrowserPolicy = { ...LOOPBACK_POLICY, allowedHosts: [HOST] }

export interface DaemonOptions {
  readonly mode?: RunMode
  readonly speed?: number
  /** How often the stream sends `stats` (wall ms). */
  readonly statsMs?: number
  /** The write token, if writes need one. */
  readonly token?: string
  /** REPORTS_DIR: the runs the Experiments panel lists. */
  readonly reportsDir?: string
}

/** The demo machine served as server.ts serves it, built but not yet listening. */
export interface Daemon {
  readonly server: FastifyInstance
  readonly kernel: Kernel
  readonly runner: SimRunner
  /** Listens on 127.0.0.1:port (0: any free one) and returns the port. */
  listen(port?: number): Promise<number>
  close(): Promise<void>
}

export async function buildDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const kernel = new Kernel(DEMO_CONFIG)
  for (const p of DEMO_PROCESSES) kernel.exec(p)
  const runner = new SimRunner(kernel, { mode: opts.mode ?? 'paused', speed: opts.speed })
  const lifecycle = new Lifecycle()
  const { server } = await appServer({
    kernel,
    runner,
    token: opts.token,
    browsers: BROWSERS,
    reportsDir: opts.reportsDir,
    // The demo machine as server.ts boots it without CONFIG_FILE: GET /sim/scenario states it.
    recording: {
      boot: {
        seed: DEMO_CONFIG.seed as number,
        machine: { topology: DEFAULT_TOPOLOGY, processes: DEMO_PROCESSES, tunables: {} },
        restored: false,
      },
    },
    events: { statsMs: opts.statsMs },
    ops: {
      lifecycle,
      metrics: new Metrics({ kernel, runner, version: VERSION }),
      maxEventLoopDelayMs: 0,
      writeRateLimit: 0,
    },
  })
  await server.ready()
  return {
    server,
    kernel,
    runner,
    listen: async (port = 0) => {
      await server.listen({ host: '127.0.0.1', port })
      lifecycle.ready()
      return (server.server.address() as { port: number }).port
    },
    close: async () => {
      runner.close()
      await server.close()
    },
  }
}

/** The dashboard's URL on the non-localhost origin. */
export const dashboardUrl = (port: number) => `http://${HOST}:${port}/`

/** The page's <body> data-* attributes: connection, epoch, now, received, stats, lost. */
export type BodyData = Record<string, string | undefined>

/**
 * Reads them. (As an expression evaluated over CDP, which the page's CSP does not govern;
 * and the project's TypeScript has no DOM types for a page function.)
 */
export const bodyData = (page: Page) =>
  page.evaluate('({ ...document.body.dataset })') as Promise<BodyData>

/** Reads until `cond` holds of what `read` gives, for at most `timeout` ms. */
export async function until<T>(
  read: () => T | Promise<T>,
  cond: (value: T) => boolean,
  what: string,
  timeout = 20_000,
): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const value = await read()
    if (cond(value)) return value
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}: ${JSON.stringify(value)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Polls the page until `cond` holds of its <body> data-* attributes. (Not
 * page.waitForFunction with a string: the page's CSP forbids the eval it needs.)
 */
export const waitForBody = (page: Page, cond: (data: BodyData) => boolean, what: string) =>
  until(() => bodyData(page), cond, what)

/**
 * Steps virtual time with the page's own controls, and waits for the first `stats` after the
 * step: its rates cover the step's end.
 */
export async function step(page: Page, ms: number): Promise<void> {
  const target = Number((await bodyData(page)).now) + ms
  await page.fill('#sim-step-ms', String(ms))
  await page.click('#sim-step')
  const { stats } = await waitForBody(page, (d) => Number(d.now) >= target, `t = ${target} ms`)
  await waitForBody(page, (d) => Number(d.stats) > Number(stats), 'a stats message')
}

/**
 * No network for the page from now on: the browser context is offline and every request but
 * one for a file:// URL fails (a page opened from disk, as report.html is).
 */
export async function offline(page: Page): Promise<void> {
  const context = page.context()
  await context.setOffline(true)
  await context.route('**/*', (route) =>
    route.request().url().startsWith('file:') ? route.continue() : route.abort(),
  )
}

/**
 * The whole page in one viewport (a sticky header stays at the top), written to `out`; fails
 * if the page logged an error.
 */
export async function screenshotPage(browser: Browser, out: string, width: number): Promise<void> {
  const { page } = browser
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number
  await page.setViewportSize({ width, height })
  await page.screenshot({ path: out })
  if (browser.errors.length > 0) throw new Error(`console errors: ${browser.errors.join('; ')}`)
  process.stdout.write(`wrote ${out}\n`)
}
