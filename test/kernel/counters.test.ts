/**
 * Counters a kernel engineer reads side by side (docs/simulation.md, "Counters that look
 * wrong"): what each one counts, pinned on the demo machine and on small ones.
 */
import { describe, expect, it } from 'vitest'
import { KSCAND_INVALID_FOLIO, KSCAND_NOT_HOT_PAGE, PAGE_SIZE } from '../../src/kernel/constants.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../../src/kernel/demo.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { EV, EVENTS } from '../../src/kernel/trace.ts'
import { boot, pagesConserved } from '../helpers/kernel.ts'

/** The demo machine with kmigrated going round-robin, so every mm gets promotions. */
function roundRobinDemo(): Kernel {
  const k = new Kernel({ ...DEMO_CONFIG, quirks: { kmigrated_sticky_slot: false } })
  for (const p of DEMO_PROCESSES) k.exec(p)
  return k
}

describe('kmigrated failures and the migration window', () => {
  it('nr_kscand_migrate_failed counts rejections before migrate_pages(); pgmigrate_fail stays 0', () => {
    const k = roundRobinDemo()
    const rcs = new Map<number, number>()
    const migrations = new Uint8Array(EVENTS.length)
    migrations[EV.kmem_scan_mm_migrate] = 1
    k.tracer.subscribe((e) => {
      if (e.id === EV.kmem_scan_mm_migrate) {
        const rc = e.args[1] as number
        rcs.set(rc, (rcs.get(rc) ?? 0) + 1)
      }
    }, migrations)
    k.run(10_000)
    const failed = k.vmstat.get('nr_kscand_migrate_failed')
    expect(failed).toBeGreaterThan(100_000)
    expect(k.vmstat.get('pgmigrate_fail')).toBe(0)
    // Entries whose page an earlier duplicate already promoted (3: the PFN holds another
    // folio now) or that a newer scan found idle (10): kmigrated_promote_folio() refuses
    // them before it gets to migrate_misplaced_folio().
    expect([...rcs.keys()].filter((rc) => rc !== 0).sort()).toEqual(
      [KSCAND_INVALID_FOLIO, KSCAND_NOT_HOT_PAGE].sort(),
    )
    expect((rcs.get(KSCAND_INVALID_FOLIO) ?? 0) + (rcs.get(KSCAND_NOT_HOT_PAGE) ?? 0)).toBe(failed)
    expect(rcs.get(0)).toBe(k.vmstat.get('nr_kscand_migrated'))

    // msuccess is update_mstat_ratio()'s decayed count of the last 1024-attempt windows,
    // not a total: memcached's last windows were all duplicates, so it reads 0 beside
    // hundreds of thousands of promotions.
    const memcached = k.processStats(1000)
    expect(memcached.promoted).toBeGreaterThan(200_000)
    expect(memcached.migration).toMatchObject({ msuccess: 0, fratio: 100 })
    expect(memcached.migration?.mfailed).toBe(1365)
  })
})

describe('kswapd counts the folios it scans on its own LRU', () => {
  it('after forking memcached, kswapd of the full DRAM node demotes to the CXL node', () => {
    const k = roundRobinDemo()
    k.run(10_000)
    const node1 = k.machine.nodes[1]
    expect(node1.free).toBeGreaterThan(node1.wmarkPromo)
    const otherOn2 = k.vmstat.node(2, 'numa_other')
    const child = k.fork(1000)
    const childOn2 = child.mm.pagesOnNode[2]
    // The child's interleaved pages take node 1 down to its min watermark.
    expect(node1.free).toBe(node1.wmarkMin)
    k.run(k.now + 100)
    expect(node1.free).toBeGreaterThanOrEqual(node1.wmarkPromo)
    const demoted = k.vmstat.get('pgdemote_kswapd')
    expect(demoted).toBeGreaterThan(0)
    // One pass clears the A bits (the child's PTEs start old, so its cold pages can go at
    // once); no more than two passes over node 1's pages were needed.
    const scanned = k.vmstat.get('pgscan_kswapd')
    expect(scanned).toBeGreaterThan(demoted)
    expect(scanned).toBeLessThanOrEqual(2 * (node1.pages - node1.wmarkMin))
    expect(k.processStats(child.pid).demoted + k.processStats(1000).demoted).toBe(demoted)
    // pgdemote_kswapd is a node stat item, counted on the node reclaimed (nodeN/vmstat).
    expect(k.vmstat.node(1, 'pgdemote_kswapd')).toBe(demoted)
    // kswapd1 allocates each demoted page on node 2 from node 1's CPUs: other_node there, as
    // are the child's interleaved pages on node 2 (its task runs on node 1).
    expect(k.vmstat.node(2, 'numa_other') - otherOn2).toBe(childOn2 + demoted)
  })

  it('on the faithful demo, forking memcached leaves every node above its low watermark: kswapd sleeps', () => {
    const k = new Kernel(DEMO_CONFIG)
    for (const p of DEMO_PROCESSES) k.exec(p)
    k.run(60_000)
    // kmigrated drains gups only (sticky slot), into node 0: node 1 keeps memcached's half.
    k.fork(1000)
    k.run(k.now + 10_000)
    for (const node of k.machine.nodes) expect(node.free).toBeGreaterThan(node.wmarkLow)
    expect(k.thread('kswapd1').cycles).toBe(0)
    expect(k.vmstat.get('pgscan_kswapd')).toBe(0)
    expect(k.vmstat.get('pgdemote_kswapd')).toBe(0)
    expect(pagesConserved(k)).toBe(true)
  })

  it('unevictable folios are not scanned: pgscan_kswapd stays 0 and kswapd gives up', () => {
    const k = boot()
    const node0 = k.machine.nodes[0]
    k.exec({
      comm: 'locked',
      vmas: [{ kind: 'mlocked', size: (node0.pages - node0.wmarkMin) * PAGE_SIZE }],
      policy: { mode: 'bind', nodes: [0] },
    })
    k.run(1000)
    const kswapd0 = k.thread('kswapd0')
    expect(kswapd0.cycles).toBeGreaterThan(0)
    expect(kswapd0.state).toBe('sleeping')
    expect(k.vmstat.get('pgscan_kswapd')).toBe(0)
    expect(k.vmstat.get('pgdemote_kswapd')).toBe(0)
    expect(node0.free).toBe(node0.wmarkMin)
  })
})
