/**
 * procfs files as the kernel prints them: /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print),
 * /proc/PID/numa_maps (fs/proc/task_mmu.c show_numa_map), /proc/PID/status of kernel threads
 * (fs/proc/array.c for a task without an mm), and the listings of /proc and /proc/PID.
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
  it('prints each node’s five zones, Normal with its stats and watermarks, as the kernel does', async () => {
    const node0 = t.kernel.machine.nodes[0]
    t.kernel.exec({ comm: 'a', size: 8 * MiB, policy: { mode: 'bind', nodes: [0] } })
    const r = await get('/proc/zoneinfo')
    expect(r.statusCode).toBe(200)
    const zones = r.body.split(/(?=^Node )/m)
    expect(zones.map((z) => z.split('\n')[0])).toEqual(
      [0, 1, 2].flatMap((n) =>
        ['     DMA', '   DMA32', '  Normal', ' Movable', '  Device'].map(
          (z) => `Node ${n}, zone ${z}`,
        ),
      ),
    )
    // An empty zone stops after its protection line.
    const empty = [
      '  pages free     0',
      '        boost    0',
      '        min      0',
      '        low      0',
      '        high     0',
      '        promo    0',
      '        spanned  0',
      '        present  0',
      '        managed  0',
      '        cma      0',
      '        protection: (0, 0, 0, 0, 0)',
      '',
    ]
    expect(zones[0].split('\n')).toEqual(['Node 0, zone      DMA', ...empty])
    expect(zones[3].split('\n')).toEqual(['Node 0, zone  Movable', ...empty])
    // The first populated zone carries the node's stats: nodeN/vmstat's node items, `%-12s %lu`.
    const vmstat = (await get('/sys/devices/system/node/node0/vmstat')).body.trimEnd().split('\n')
    const at = vmstat.findIndex((l) => l.startsWith('nr_inactive_anon '))
    const item = (l: string) => {
      const [name, v] = l.split(' ')
      return `      ${name.padEnd(12)} ${v}`
    }
    const used = (8 * MiB) / PAGE_SIZE
    expect(zones[2].split('\n')).toEqual([
      'Node 0, zone   Normal',
      '  per-node stats',
      ...vmstat.slice(at).map(item),
      `  pages free     ${16384 - used}`,
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
      ...vmstat.slice(0, at).map(item),
      '  node_unreclaimable:  0',
      '  start_pfn:           0',
      '  reserved_highatomic: 0',
      '  free_highatomic:     0',
      '',
    ])
    expect(zones[2]).toContain(`\n      nr_free_pages ${16384 - used}\n`)
    expect(zones[2]).toContain(`\n      nr_anon_pages ${used}\n`)
    expect(zones[2]).toContain(`\n      numa_hit     ${used}\n`)
    // min < low < high < promo, as __setup_per_zone_wmarks() spaces them.
    expect(node0.wmarkMin).toBeLessThan(node0.wmarkLow)
    expect(node0.wmarkHigh).toBeLessThan(node0.wmarkPromo)
    expect(zones[12]).toMatch(/^Node 2, zone {3}Normal\n {2}per-node stats\n/)
    expect(zones[12]).toContain('\n  start_pfn:           32768\n')
    const json = (await get('/proc/zoneinfo', true)).json()
    expect(json.value).toHaveLength(15)
    expect(json.value[12]).toMatchObject({ node: 2, zone: 'Normal', spanned: 32768 })
    expect(json.value[12].populated).toMatchObject({ start_pfn: 32768 })
    expect(json.value[11]).toMatchObject({ node: 2, zone: 'DMA32', spanned: 0, populated: null })
  })
})

describe('/proc/PID/status of kernel threads', () => {
  it('has Kthread 1, PPid 2 (kthreadd) and no Vm lines', async () => {
    const r = await get('/proc/90/status')
    expect(r.statusCode).toBe(200)
    expect(r.body.split('\n')).toEqual([
      'Name:\tkscand',
      'Umask:\t0000',
      expect.stringMatching(/^State:\t(R \(running\)|D \(disk sleep\))$/),
      'Tgid:\t90',
      'Ngid:\t0',
      'Pid:\t90',
      'PPid:\t2',
      'TracerPid:\t0',
      'Uid:\t0\t0\t0\t0',
      'Gid:\t0\t0\t0\t0',
      'FDSize:\t64',
      'Groups:\t',
      'NStgid:\t90',
      'NSpid:\t90',
      'NSpgid:\t0',
      'NSsid:\t0',
      'Kthread:\t1',
      'Threads:\t1',
      'Mems_allowed_list:\t0-2',
      '',
    ])
    t.kernel.advance(100)
    // kscand and kmigrated sleep in wait_event_timeout() and msleep(): TASK_UNINTERRUPTIBLE,
    // `D`; kswapd waits interruptibly.
    for (const [pid, name, state] of [
      [90, 'kscand', 'D (disk sleep)'],
      [91, 'kmigrated', 'D (disk sleep)'],
      [70, 'kswapd0', 'S (sleeping)'],
      [71, 'kswapd1', 'S (sleeping)'],
    ] as const) {
      const s = (await get(`/proc/${pid}/status`)).body
      expect(s).toMatch(new RegExp(`^Name:\\t${name}\\n`))
      expect(s).toContain(`\nState:\t${state}\n`)
      expect(s).not.toMatch(/^(Vm|Rss|PTEAScanScale)/m)
    }
    // A user process keeps its Vm lines and Kthread 0.
    const p = t.kernel.exec({ comm: 'user', size: MiB })
    expect((await get(`/proc/${p.pid}/status`)).body).toContain(
      `\nNSsid:\t${p.pid}\nKthread:\t0\nVmPeak:\t`,
    )
  })

  it('a stopped kernel thread has exited: no /proc entry', async () => {
    t.kernel.stopThread('kmigrated')
    expect((await get('/proc/91/status')).statusCode).toBe(404)
  })
})

describe('/proc/PID/numa_maps', () => {
  it('prints one line per VMA: start, policy, counts and pages per node', async () => {
    const p = t.kernel.exec({
      comm: 'memcached',
      vmas: [
        { kind: 'file_ro', size: MiB },
        { kind: 'anon', size: 8 * MiB },
        { kind: 'shared', size: MiB, mbind: true },
        { kind: 'io', size: MiB },
      ],
      policy: { mode: 'interleave', nodes: [2, 1] },
    })
    const r = await get(`/proc/${p.pid}/numa_maps`)
    expect(r.statusCode).toBe(200)
    // A task policy (numactl --interleave) is not the VMA's: `default`; the mbind VMA has its own.
    expect(r.body.split('\n')).toEqual([
      '7f0000000000 default file=/kscand-sim/memcached.0 mapped=256 N1=128 N2=128 kernelpagesize_kB=4',
      '7f0000400000 default anon=2048 dirty=2048 N1=1024 N2=1024 kernelpagesize_kB=4',
      '7f0000e00000 interleave:1-2 mapped=256 mapmax=2 N1=128 N2=128 kernelpagesize_kB=4',
      '7f0001200000 default',
      '',
    ])
    const json = (await get(`/proc/${p.pid}/numa_maps`, true)).json()
    expect(json[1]).toMatchObject({ anon: 2048, nodes: { N1: 1024, N2: 1024 } })
    expect((await get('/proc/90/numa_maps')).body).toBe('')
    t.kernel.exit(p.pid)
    expect((await get(`/proc/${p.pid}/numa_maps`)).statusCode).toBe(404)
  })
})

describe('listings', () => {
  it('/proc lists a directory per process and running kernel thread, and its files', async () => {
    const p = t.kernel.exec({ comm: 'a', size: MiB })
    t.kernel.stopThread('kmigrated')
    const text = (await get('/proc')).body
    expect(text.split('\n')).toEqual([
      String(p.pid),
      '70',
      '71',
      '90',
      'meminfo',
      'sys',
      'vmstat',
      'zoneinfo',
      '',
    ])
    expect((await get('/proc/')).body).toBe(text)
    const json = (await get('/proc', true)).json()
    expect(json.entries).toContainEqual({ name: 'sys', type: 'dir' })
    expect(json.entries).toContainEqual({ name: 'zoneinfo', type: 'file' })
    expect((await get('/proc/sys/kernel')).body).toMatch(/^numa_balancing$/m)
    for (const pid of [String(p.pid), '90']) {
      expect((await get(`/proc/${pid}`)).body).toBe('numa_maps\nstatus\n')
      expect((await get(`/proc/${pid}/`)).body).toBe('numa_maps\nstatus\n')
    }
    expect((await get('/proc/91')).statusCode).toBe(404)
    expect((await get('/proc/4242')).statusCode).toBe(404)
  })
})
