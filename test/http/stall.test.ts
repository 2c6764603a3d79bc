/**
 * The simulation explains itself: when a process's hot pages are not promoted, the process
 * view, the ps-like table and /metrics name the cause and the switch that ends it.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { MiB, PAGE_SIZE } from '../../src/kernel/constants.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../../src/kernel/demo.ts'
import { Metrics } from '../../src/metrics/metrics.ts'
import { type Built, build, JSON_ACCEPT, TOKEN } from '../helpers/http.ts'

const AUTH = { authorization: `Bearer ${TOKEN}` }
const STICKY = '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot'

let t: Built
afterEach(() => t.close())

const get = (url: string, json = false) =>
  t.server.inject({ method: 'GET', url, headers: json ? JSON_ACCEPT : {} })
const write = (method: 'PUT' | 'POST', url: string, payload = '') =>
  t.server.inject({ method, url, payload, headers: { ...AUTH, 'content-type': 'text/plain' } })

/** The /metrics exposition of this app's kernel. */
const metrics = () =>
  new Metrics({ kernel: t.kernel, runner: t.runner, version: '0.0.0' }).registry.metrics()

/** Runs the clock in 500 ms steps until promotions stop (up to 120 virtual s). */
function runUntilPromotionsStop(): number {
  const promoted = () => t.kernel.vmstat.get('pgpromote_success')
  let last = -1
  while (t.kernel.now < 120_000) {
    t.kernel.advance(500)
    if (promoted() > 0 && promoted() === last) return t.kernel.now
    last = promoted()
  }
  throw new Error('promotions never stopped')
}

describe('on the default demo machine (kmigrated_sticky_slot faithful)', () => {
  it('names the sticky slot and its switch within 10 virtual s of the stall', async () => {
    t = await build({ token: TOKEN, config: DEMO_CONFIG, processes: DEMO_PROCESSES })
    const stalledAt = runUntilPromotionsStop()
    t.kernel.run(stalledAt + 10_000)
    const text = (await get('/processes/1000')).body
    expect(text).toMatch(/^stalled sticky_slot$/m)
    expect(text).toMatch(
      /^stall_reason kmigrated drains only pid 1001 \(gups\), the first mm that got a migration list, until it exits \(V3 quirk 4, faithful\): \d+ pages wait$/m,
    )
    expect(text).toContain(`\nstall_remedy write 0 to ${STICKY} (kmigrated goes round-robin)\n`)
    const d = (await get('/processes/1000', true)).json()
    expect(d.stall).toMatchObject({
      cause: 'sticky_slot',
      servicing: 1001,
      node: null,
      remedy_request: { method: 'PUT', path: STICKY, body: '0' },
    })
    expect(d.stall.pending).toBe(d.migration.pending)
    expect(d.stall.pending).toBeGreaterThan(0)

    // The ps-like table: memcached and backup wait behind gups, which is drained.
    const ps = (await get('/processes')).body.split('\n')
    expect(ps[0]).toMatch(/ STALLED$/)
    expect(ps.find((l) => l.startsWith('1000 '))).toMatch(/ sticky_slot$/)
    expect(ps.find((l) => l.startsWith('1001 '))).toMatch(/ -$/)
    expect(ps.find((l) => l.startsWith('1002 '))).toMatch(/ sticky_slot$/)
    const gups = (await get('/processes/1001')).body
    expect(gups).toMatch(/^stalled -$/m)

    const exposition = await metrics()
    expect(exposition).toContain(
      'kscand_sim_promotion_stalled{pid="1000",comm="memcached",cause="sticky_slot"} 1\n',
    )
    expect(exposition).not.toContain('kscand_sim_promotion_stalled{pid="1001"')

    // kmigrated's own view: the mm it drains, and who waits behind it.
    const km = (await get('/threads/kmigrated')).body
    expect(km).toContain('\nmm_slot 1001 (gups)\nmm_slots 3\nkmigrated_sticky_slot 1\n')
    const waiting = km.split('\n').filter((l) => l.startsWith('promotion_stalled '))
    expect(waiting).toEqual([
      `promotion_stalled 1000 (memcached) sticky_slot: ${d.stall.pending} pages wait`,
      expect.stringMatching(/^promotion_stalled 1002 \(backup\) sticky_slot: \d+ pages wait$/),
    ])
    // One remedy line for both.
    expect(km.match(/^stall_remedy .*$/gm)).toEqual([
      `stall_remedy write 0 to ${STICKY} (kmigrated goes round-robin)`,
    ])
    const kmJson = (await get('/threads/kmigrated', true)).json()
    expect(kmJson.name).toBe('kmigrated')
    expect(kmJson.kmigrated_daemon).toMatchObject({
      mm_slot: 1001,
      mm_slot_comm: 'gups',
      kmigrated_sticky_slot: true,
      max_migrate_info: 1 << 20,
    })
    expect(kmJson.kmigrated_daemon.promotion_stalled.map((p: { pid: number }) => p.pid)).toEqual([
      1000, 1002,
    ])
    expect(kmJson.kmigrated_daemon.promotion_stalled[0]).toMatchObject({
      comm: 'memcached',
      ...d.stall,
    })
    // Other threads have no such section.
    expect((await get('/threads/kscand', true)).json()).not.toHaveProperty('kmigrated_daemon')
    expect((await get('/threads/kscand')).body).not.toContain('promotion_stalled')

    // memcached's and backup's lists hold every kscand_migrate_info entry there can be.
    const child = t.kernel.fork(1000)
    t.kernel.advance(5000)
    expect((await get(`/processes/${child.pid}`, true)).json().stall).toMatchObject({
      cause: 'migrate_info_full',
      remedy: `write 0 to ${STICKY} (kmigrated goes round-robin)`,
    })

    // The switch: round-robin, and memcached's pages are promoted.
    expect((await write('PUT', STICKY, '0')).statusCode).toBe(200)
    const before = t.kernel.processStats(1000).promoted
    t.kernel.advance(2000)
    expect(t.kernel.processStats(1000).promoted).toBeGreaterThan(before)
    expect((await get('/processes/1000', true)).json().stall).toBeNull()
    expect((await get('/threads/kmigrated')).body).toContain('\nkmigrated_sticky_slot 0\nqueued ')
  })
})

describe("the README's first screen", () => {
  /** Its first console block: each `$ curl …` command with the lines it prints. */
  function consoleBlock(): { command: string; output: string[] }[] {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const block = /```console\n([^`]*)```/.exec(readme)?.[1] ?? ''
    const steps: { command: string; output: string[] }[] = []
    for (const line of block.trimEnd().split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] })
      else steps.at(-1)?.output.push(line)
    }
    return steps
  }

  it('prints what the daemon answers on the default demo, 30 virtual s in', async () => {
    t = await build({ config: DEMO_CONFIG, processes: DEMO_PROCESSES })
    t.kernel.run(30_000)
    const steps = consoleBlock()
    expect(steps.map((s) => s.command.split(' | ')[0])).toEqual([
      'curl -s 127.0.0.1:8080/processes/1000',
      'curl -s 127.0.0.1:8080/threads/kmigrated',
      `curl -X PUT -d 0 127.0.0.1:8080${STICKY}`,
    ])
    for (const { command, output } of steps) {
      const [curl, grep] = command.split(' | ')
      const words = curl.split(' ')
      const url = (words.at(-1) as string).slice('127.0.0.1:8080'.length)
      const put = words.includes('PUT')
      const r = put ? await write('PUT', url, words[words.indexOf('-d') + 1]) : await get(url)
      expect(r.statusCode, command).toBe(200)
      // `grep ^a` or `grep -e ^a -e ^b`: the lines that start so.
      const prefixes = (grep?.split(' ').filter((w) => w.startsWith('^')) ?? []).map((w) =>
        w.slice(1),
      )
      const lines = r.body.trimEnd().split('\n')
      const shown = grep ? lines.filter((l) => prefixes.some((p) => l.startsWith(p))) : lines
      expect(shown, command).toEqual(output)
    }
  })
})

describe('other causes', () => {
  const CXL_HOT = {
    comm: 'hot',
    size: 8 * MiB,
    policy: { mode: 'bind', nodes: [2] },
    workload: { pattern: 'uniform' },
    access_rate: 1e5,
  } as const

  it('kmigrated stopped: pages wait, and the remedy starts it', async () => {
    t = await build({ token: TOKEN, processes: [CXL_HOT] })
    await write('POST', '/threads/kmigrated/stop')
    t.kernel.advance(3000)
    const d = (await get('/processes/1000', true)).json()
    expect(d.stall).toMatchObject({
      cause: 'kmigrated_stopped',
      reason: `kmigrated is stopped: ${d.migration.pending} pages wait on the migration list`,
      remedy: 'POST /threads/kmigrated/start',
      remedy_request: { method: 'POST', path: '/threads/kmigrated/start', body: null },
    })
    expect((await get('/threads/kmigrated')).body).toContain(`\nstate stopped\n`)
    expect((await get('/threads/kmigrated')).body).toContain(
      `\npromotion_stalled 1000 (hot) kmigrated_stopped: ${d.migration.pending} pages wait\n` +
        'stall_remedy POST /threads/kmigrated/start\n',
    )
    await write('POST', '/threads/kmigrated/start')
    t.kernel.advance(100)
    expect((await get('/processes/1000', true)).json().stall).toBeNull()
    expect((await get('/threads/kmigrated')).body).toContain('\npromotion_stalled -\n')
  })

  it('a full target node with demotion off: promotions fail, the remedy enables demotion', async () => {
    t = await build({ token: TOKEN, config: { demotionEnabled: false } })
    const node0 = t.kernel.machine.nodes[0]
    t.kernel.exec({
      comm: 'fill',
      size: (node0.pages - node0.wmarkLow) * PAGE_SIZE,
      policy: { mode: 'bind', nodes: [0] },
      workload: { pattern: 'idle' },
    })
    const hot = t.kernel.exec(CXL_HOT)
    t.kernel.advance(3000)
    expect(t.kernel.vmstat.get('nr_kscand_migrate_failed')).toBeGreaterThan(0)
    const d = (await get(`/processes/${hot.pid}`, true)).json()
    expect(d.stall).toEqual({
      cause: 'target_node_full',
      pending: d.migration.pending,
      servicing: null,
      node: 0,
      // Every attempt of the drain failed: patch 11's feedback makes its scans 11× rarer.
      fratio: 100,
      reason:
        `target node 0 is at its high watermark (${node0.free} pages free, high ` +
        `${node0.wmarkHigh}): promotions fail with rc 11 and demotion is off; its fratio of ` +
        '100 % stretches its scan_period ×11',
      remedy: 'write 1 to /sys/kernel/mm/numa/demotion_enabled',
      remedy_request: { method: 'PUT', path: '/sys/kernel/mm/numa/demotion_enabled', body: '1' },
    })
    expect(await metrics()).toContain(
      `kscand_sim_promotion_stalled{pid="${hot.pid}",comm="hot",cause="target_node_full"} 1\n`,
    )
    expect((await write('PUT', '/sys/kernel/mm/numa/demotion_enabled', '1')).statusCode).toBe(200)
    // kswapd makes room at the next failed promotion; the failures made the scan period ×11.
    t.kernel.advance(30_000)
    expect(t.kernel.processStats(hot.pid).promoted).toBeGreaterThan(0)
    expect((await get(`/processes/${hot.pid}`, true)).json().stall).toBeNull()
  })

  it('kscand not scanning: stopped, scan_enabled 0, or the mm at scale 0, each with its switch', async () => {
    t = await build({ token: TOKEN, processes: [CXL_HOT] })
    await write('PUT', '/sys/kernel/mm/kscand/scan_enabled', '0')
    t.kernel.advance(3000)
    expect((await get('/processes/1000', true)).json().stall).toMatchObject({
      cause: 'scan_disabled',
      reason: 'scan_enabled is 0: kscand waits, and no scan finds its hot slow-tier pages',
      remedy: 'write 1 to /sys/kernel/mm/kscand/scan_enabled',
      remedy_request: { method: 'PUT', path: '/sys/kernel/mm/kscand/scan_enabled', body: '1' },
    })
    await write('PUT', '/sys/kernel/mm/kscand/scan_enabled', '1')
    await write('POST', '/threads/kscand/stop')
    expect((await get('/processes/1000')).body).toContain(
      '\nstalled kscand_stopped\nstall_reason kscand is stopped: no scan finds its hot ' +
        'slow-tier pages\nstall_remedy POST /threads/kscand/start\n',
    )
    await write('POST', '/threads/kscand/start')
    const r = await t.server.inject({
      method: 'POST',
      url: '/processes/1000/prctl',
      payload: { option: 'PR_SET_PTE_A_SCAN_SCALE', arg2: 0 },
      headers: AUTH,
    })
    expect(r.statusCode).toBe(200)
    expect((await get('/processes/1000', true)).json().stall).toMatchObject({
      cause: 'scan_scale_zero',
      reason: 'its pte_scan_scale is 0 (PR_SET_PTE_A_SCAN_SCALE): kscand skips the mm',
      remedy: 'prctl(PR_SET_PTE_A_SCAN_SCALE, 8) as the process: POST /processes/1000/prctl',
      remedy_request: null,
    })
    expect(await metrics()).toContain(
      'kscand_sim_promotion_stalled{pid="1000",comm="hot",cause="scan_scale_zero"} 1\n',
    )
  })

  it('every kscand_migrate_info entry taken: kscand can queue nothing', async () => {
    t = await build({ token: TOKEN, config: { maxMigrateInfo: 0 }, processes: [CXL_HOT] })
    t.kernel.advance(3000)
    expect(t.kernel.vmstat.get('nr_kscand_migadded')).toBe(0)
    expect((await get('/processes/1000', true)).json().stall).toMatchObject({
      cause: 'migrate_info_full',
      pending: 0,
      reason:
        'kscand can queue none of its pages: all 0 kscand_migrate_info entries are taken ' +
        '(GFP_NOWAIT fails)',
    })
  })
})
