/**
 * Kmigrated.stall(mm): why an mm's slow-tier pages are not promoted, from kmigrated's state
 * alone, on scripted machines driven in virtual time (docs/simulation.md, "When promotions
 * stall").
 */
import { describe, expect, it } from 'vitest'
import { MiB, PAGE_SIZE, PR_SET_PTE_A_SCAN_SCALE } from '../../src/kernel/constants.ts'
import type { Kernel } from '../../src/kernel/kernel.ts'
import type { ProcessSpec } from '../../src/kernel/spec.ts'
import { boot } from '../helpers/kernel.ts'

/** 16 MiB on the CXL node, every page hot. */
const hot = (comm: string): ProcessSpec => ({
  comm,
  size: 16 * MiB,
  policy: { mode: 'bind', nodes: [2] },
  workload: { pattern: 'uniform' },
  access_rate: 1e5,
})

const stall = (k: Kernel, pid: number) => k.promotionStall(k.process(pid).mm)
const promoted = (k: Kernel, pid: number) => k.processStats(pid).promoted

describe('sticky_slot', () => {
  /** Two hot processes: the first to get a migration list is the only one kmigrated drains. */
  function twoHot(): { k: Kernel; first: number; second: number } {
    const k = boot()
    const a = k.exec(hot('first')).pid
    const b = k.exec(hot('second')).pid
    k.run(5000)
    const owner = k.kmigrated.cur?.mm.owner
    expect(owner === a || owner === b).toBe(true)
    return { k, first: owner as number, second: owner === a ? b : a }
  }

  it('names the mm kmigrated drains instead, for as long as it lives', () => {
    const { k, first, second } = twoHot()
    expect(stall(k, first)).toBeNull()
    expect(promoted(k, first)).toBeGreaterThan(0)
    const s = stall(k, second)
    expect(s).toEqual({
      cause: 'sticky_slot',
      pending: k.processStats(second).migration?.pending,
      servicing: first,
      node: null,
      fratio: 0,
    })
    expect(s?.pending).toBeGreaterThan(0)
    // Time alone changes nothing: the second never gets a promotion.
    k.advance(20_000)
    expect(stall(k, second)?.cause).toBe('sticky_slot')
    expect(promoted(k, second)).toBe(0)
  })

  it('ends when that mm exits: kmigrated takes the next slot', () => {
    const { k, first, second } = twoHot()
    k.exit(first)
    k.advance(1000)
    expect(stall(k, second)).toBeNull()
    expect(promoted(k, second)).toBeGreaterThan(0)
  })

  it('ends when the quirk is switched off: round-robin, and a waiting mm is not stalled', () => {
    const { k, second } = twoHot()
    k.quirks.kmigrated_sticky_slot = false
    // Before kmigrated has moved on, it waits its turn: not a stall.
    expect(stall(k, second)).toBeNull()
    k.advance(1000)
    expect(promoted(k, second)).toBeGreaterThan(0)
  })
})

describe('kmigrated_stopped', () => {
  it('holds while pages are pending and the thread is stopped, and ends at its start', () => {
    const k = boot()
    k.stopThread('kmigrated')
    const { pid } = k.exec(hot('hot'))
    k.run(1000)
    // Nothing queued yet (the first scan comes after the 2 s delay): nothing stalls.
    expect(stall(k, pid)).toBeNull()
    k.run(4000)
    const pending = k.processStats(pid).migration?.pending ?? 0
    expect(pending).toBeGreaterThan(0)
    expect(stall(k, pid)).toEqual({
      cause: 'kmigrated_stopped',
      pending,
      servicing: null,
      node: null,
      fratio: 0,
    })
    k.startThread('kmigrated')
    k.advance(100)
    expect(stall(k, pid)).toBeNull()
    expect(k.processStats(pid).migration?.pending).toBe(0)
    expect(promoted(k, pid)).toBeGreaterThan(0)
  })
})

describe('target_node_full', () => {
  /** Node 0 filled to its low watermark by an idle process; demotion off. */
  function full(): { k: Kernel; fill: number; pid: number } {
    const k = boot({ demotionEnabled: false })
    const node0 = k.machine.nodes[0]
    const fill = k.exec({
      comm: 'fill',
      size: (node0.pages - node0.wmarkLow) * PAGE_SIZE,
      policy: { mode: 'bind', nodes: [0] },
      workload: { pattern: 'idle' },
    }).pid
    const { pid } = k.exec(hot('hot'))
    k.run(5000)
    return { k, fill, pid }
  }

  it('names the node; the failures of the drain set fratio, which stretches the scan period', () => {
    const { k, pid } = full()
    expect(k.process(pid).mm.target_node).toBe(0)
    expect(promoted(k, pid)).toBe(0)
    expect(k.vmstat.get('nr_kscand_migrate_failed')).toBeGreaterThan(1024)
    expect(stall(k, pid)).toEqual({
      cause: 'target_node_full',
      pending: k.processStats(pid).migration?.pending,
      servicing: null,
      node: 0,
      fratio: 100,
    })
    // Patch 11: ×(1 + 100 / 10).
    expect(k.processStats(pid).scan?.scan_period).toBeGreaterThan(5000)
  })

  it('ends once the node has room again', () => {
    const { k, fill, pid } = full()
    k.exit(fill)
    expect(stall(k, pid)).toBeNull()
  })
})

describe('nothing queued: kscand_stopped, scan_disabled, scan_scale_zero', () => {
  const none = { pending: 0, servicing: null, node: null, fratio: 0 }

  it('kscand_stopped: no scan queues the pages; its start ends it', () => {
    const k = boot()
    k.stopThread('kscand')
    const { pid } = k.exec(hot('hot'))
    k.run(5000)
    expect(k.vmstat.get('nr_kscand_migadded')).toBe(0)
    expect(stall(k, pid)).toEqual({ ...none, cause: 'kscand_stopped' })
    k.startThread('kscand')
    k.advance(5000)
    expect(stall(k, pid)).toBeNull()
    expect(promoted(k, pid)).toBeGreaterThan(0)
  })

  it('kscand_stopped waits for what was queued before the stop to be drained', () => {
    const k = boot()
    k.stopThread('kmigrated')
    const { pid } = k.exec(hot('hot'))
    k.run(5000)
    k.stopThread('kscand')
    // Both stopped, pages pending: kmigrated is the one that matters.
    expect(stall(k, pid)?.cause).toBe('kmigrated_stopped')
    k.startThread('kmigrated')
    k.advance(100)
    // Drained and promoted: nothing left on the slow tier, nothing stalls.
    expect(k.processStats(pid).migration?.pending).toBe(0)
    expect(k.processStats(pid).pages_per_node[2]).toBe(0)
    expect(stall(k, pid)).toBeNull()
    // A process that comes now is never scanned.
    const late = k.exec(hot('late')).pid
    k.advance(5000)
    expect(stall(k, late)?.cause).toBe('kscand_stopped')
  })

  it('scan_disabled: scan_enabled = 0 keeps kscand waiting; 1 ends it', () => {
    const k = boot()
    k.kscand.store_scan_enabled(0)
    const { pid } = k.exec(hot('hot'))
    k.run(5000)
    expect(stall(k, pid)).toEqual({ ...none, cause: 'scan_disabled' })
    k.kscand.store_scan_enabled(1)
    k.advance(5000)
    expect(stall(k, pid)).toBeNull()
    expect(promoted(k, pid)).toBeGreaterThan(0)
  })

  it('scan_scale_zero: the prctl scale 0 has kscand skip the mm, and only that one', () => {
    const k = boot()
    const skipped = k.exec(hot('skipped')).pid
    k.prctl(skipped, PR_SET_PTE_A_SCAN_SCALE, 0)
    const scanned = k.exec({ ...hot('scanned'), size: 4 * MiB }).pid
    k.run(5000)
    expect(stall(k, skipped)).toEqual({ ...none, cause: 'scan_scale_zero' })
    expect(stall(k, scanned)).toBeNull()
    expect(promoted(k, scanned)).toBeGreaterThan(0)
  })
})

describe('migrate_info_full', () => {
  it('holds when kscand can queue nothing: every kscand_migrate_info entry is taken', () => {
    const k = boot({ maxMigrateInfo: 0 })
    const { pid } = k.exec(hot('hot'))
    k.run(5000)
    expect(k.vmstat.get('nr_kscand_migadded')).toBe(0)
    expect(stall(k, pid)).toEqual({
      cause: 'migrate_info_full',
      pending: 0,
      servicing: null,
      node: null,
      fratio: 0,
    })
  })
})

describe('the diagnosis', () => {
  it('is the same for the same seed and commands', () => {
    const causes = () => {
      const k = boot()
      const pids = [k.exec(hot('a')).pid, k.exec(hot('b')).pid, k.exec(hot('c')).pid]
      const seen: string[] = []
      for (let t = 500; t <= 8000; t += 500) {
        k.run(t)
        seen.push(pids.map((pid) => stall(k, pid)?.cause ?? '-').join(','))
      }
      return seen
    }
    const first = causes()
    expect(
      first
        .at(-1)
        ?.split(',')
        .filter((c) => c === 'sticky_slot'),
    ).toHaveLength(2)
    expect(causes()).toEqual(first)
  })
})
