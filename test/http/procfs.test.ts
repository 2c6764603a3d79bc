/**
 * procfs files as the kernel prints them: /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print)
 * and /proc/PID/status of kernel threads (fs/proc/array.c for a task without an mm).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MiB, PAGE_SIZE } from '../../src/kernel/constants.ts'
import { type Built, build, JSON_ACCEPT } from '../helpers/http.ts'

let t: Built
beforeEach(async () => {
  t = await build()
})
afterEach(() => t.close())

const get = async (url: string, json = false) =>
  t.server.inject({ method: 'GET', url, headers: json ? JSON_ACCEPT : {} })

describe('/proc/zoneinfo', () => {
  it('prints each node’s zone, its free pages and watermarks in the kernel’s format', async () => {
    const node0 = t.kernel.machine.nodes[0]
    t.kernel.exec({ comm: 'a', size: 8 * MiB, policy: { mode: 'bind', nodes: [0] } })
    const r = await get('/proc/zoneinfo')
    expect(r.statusCode).toBe(200)
    const zones = r.body.split(/(?=^Node )/m)
    expect(zones).toHaveLength(3)
    expect(zones[0].split('\n')).toEqual([
      'Node 0, zone   Normal',
      `  pages free     ${16384 - (8 * MiB) / PAGE_SIZE}`,
      '        boost    0',
      `        min      ${node0.wmarkMin}`,
      `        low      ${node0.wmarkLow}`,
      `        high     ${node0.wmarkHigh}`,
      `        promo    ${node0.wmarkPromo}`,
      '        spanned  16384',
      '        present  16384',
      '        managed  16384',
      '        cma      0',
      '        protection: (0, 0, 0, 0, 0)',
      `      nr_free_pages ${node0.free}`,
      '  node_unreclaimable:  0',
      '  start_pfn:           0',
      '  reserved_highatomic: 0',
      '  free_highatomic:     0',
      '',
    ])
    // min < low < high < promo, as __setup_per_zone_wmarks() spaces them.
    expect(node0.wmarkMin).toBeLessThan(node0.wmarkLow)
    expect(node0.wmarkHigh).toBeLessThan(node0.wmarkPromo)
    expect(zones[2]).toMatch(/^Node 2, zone {3}Normal\n/)
    expect(zones[2]).toContain('\n  start_pfn:           32768\n')
    const json = (await get('/proc/zoneinfo', true)).json()
    expect(json.value[2]).toMatchObject({ node: 2, zone: 'Normal', spanned: 32768 })
  })
})

describe('/proc/PID/status of kernel threads', () => {
  it('has Kthread 1, PPid 2 (kthreadd) and no Vm lines', async () => {
    const r = await get('/proc/90/status')
    expect(r.statusCode).toBe(200)
    expect(r.body.split('\n')).toEqual([
      'Name:\tkscand',
      'Umask:\t0000',
      expect.stringMatching(/^State:\t[RS] \((running|sleeping)\)$/),
      'Tgid:\t90',
      'Ngid:\t0',
      'Pid:\t90',
      'PPid:\t2',
      'TracerPid:\t0',
      'Uid:\t0\t0\t0\t0',
      'Gid:\t0\t0\t0\t0',
      'FDSize:\t64',
      'Groups:\t',
      'Kthread:\t1',
      'Threads:\t1',
      'Mems_allowed_list:\t0-2',
      '',
    ])
    t.kernel.advance(100)
    for (const [pid, name] of [
      [91, 'kmigrated'],
      [70, 'kswapd0'],
      [71, 'kswapd1'],
    ] as const) {
      const s = (await get(`/proc/${pid}/status`)).body
      expect(s).toMatch(new RegExp(`^Name:\\t${name}\\n`))
      expect(s).toContain('\nState:\tS (sleeping)\n')
      expect(s).not.toMatch(/^(Vm|Rss|PTEAScanScale)/m)
    }
    // A user process keeps its Vm lines and Kthread 0.
    const p = t.kernel.exec({ comm: 'user', size: MiB })
    expect((await get(`/proc/${p.pid}/status`)).body).toContain('\nKthread:\t0\n')
  })

  it('a stopped kernel thread has exited: no /proc entry', async () => {
    t.kernel.stopThread('kmigrated')
    expect((await get('/proc/91/status')).statusCode).toBe(404)
  })
})
