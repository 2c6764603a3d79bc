/**
 * Kernel threads: idempotent start/stop (start_kmigrated()'s "someone already succeeded"),
 * stops that land only at should_stop points, scan_enabled as a pause and scan_sleep_ms = 0.
 */
import { describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { allBut, boot, capture, fields, pagesConserved } from '../helpers/kernel.ts'

describe('start and stop', () => {
  it('a double start is one thread; stopping a stopped thread is a no-op', () => {
    const k = boot({ autostart: false })
    const trace = capture(k)
    expect(k.startThread('kmigrated')).toBe(true)
    expect(k.startThread('kmigrated')).toBe(false)
    expect(trace.named('kthread_start')).toHaveLength(1)
    k.run(1000)
    // One thread: one cycle per msleep(20) = 21 jiffies, not two.
    expect(k.thread('kmigrated').cycles).toBe(48)
    expect(k.stopThread('kmigrated')).toBe(true)
    expect(k.thread('kmigrated').state).toBe('stopped')
    expect(k.stopThread('kmigrated')).toBe(false)
    expect(trace.named('kthread_stop')).toHaveLength(1)
    k.run(2000)
    expect(k.thread('kmigrated').cycles).toBe(48)
    expect(() => k.startThread('kworker')).toThrow(/no such kernel thread/)
  })

  it('a stopped kscand scans nothing; restarted, it carries on where it was', () => {
    const k = boot()
    k.exec({ comm: 'a', size: 4 * MiB })
    k.stopThread('kscand')
    k.run(5000)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(0)
    k.startThread('kscand')
    k.run(5030)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(1)
  })

  it('a stop during a kscand cycle lands between two visits, never inside one', () => {
    // Slow PTEs, many mms and a large mms_to_scan: a cycle crosses several cond_resched().
    const k = boot({ costs: { pteNs: 1000 } })
    const procs = Array.from({ length: 40 }, (_, i) =>
      k.exec({ comm: `p${i}`, size: 2 * MiB, policy: { mode: 'bind', nodes: [2] } }),
    )
    k.kscand.store_mms_to_scan(1_000_000)
    const trace = capture(k, allBut('kmem_scan_mm_start'))
    // Run in small steps until kscand is parked mid-cycle with some mms scanned.
    while (k.thread('kscand').state !== 'running' || k.vmstat.get('nr_kscand_mm_scans') === 0) {
      k.run(k.now + 1, 1)
    }
    const before = k.vmstat.get('nr_kscand_mm_scans')
    expect(before).toBeLessThan(procs.length)
    k.stopThread('kscand')
    expect(k.thread('kscand').state).toBe('stopped')
    // Every scan that started also finished: one kmem_scan_mm_end per counted scan, and the
    // PTE counters add up to whole mms (512 pages each).
    const scans = k.vmstat.get('nr_kscand_mm_scans')
    expect(trace.named('kmem_scan_mm_end')).toHaveLength(scans)
    expect(k.vmstat.get('nr_kscand_slowtier')).toBe(scans * 512)
    expect(k.vmstat.get('nr_kscand_migadded')).toBe(scans * 512)
    expect(pagesConserved(k)).toBe(true)
  })

  it('a stop of a thread parked at a host yield (mid-walk, mid-drain) is a stop like any', () => {
    const k = boot()
    k.exec({ comm: 'big', size: 64 * MiB, policy: { mode: 'bind', nodes: [2] } })
    const trace = capture(k)
    for (const name of ['kscand', 'kmigrated']) {
      const t = k.thread(name)
      // One thread resumption at a time, as the runner drives it, until t is parked there.
      while (k.sched.hostParked !== t) k.run(k.now + 1, 1)
      k.stopThread(name)
      expect(k.sched.hostParked).toBeNull()
      expect(t.state).toBe('stopped')
    }
    k.run(k.now + 1000)
    expect(trace.named('kthread_stop').map((e) => fields(e).comm)).toEqual(['kscand', 'kmigrated'])
    expect(k.threads().map((t) => t.last_error)).toEqual([null, null, null, null])
    // kscand finished its visit, kmigrated its drain: nothing is half done.
    const v = k.vmstat.snapshot()
    expect(v.nr_kscand_slowtier).toBe(v.nr_kscand_mm_scans * 16384)
    expect(v.nr_kscand_migrated + v.nr_kscand_migrate_failed).toBe(v.nr_kscand_migadded)
    expect(pagesConserved(k)).toBe(true)
  })

  it('a stop during a kmigrated drain finishes the drain and leaves nothing half done', () => {
    const k = boot()
    k.exec({ comm: 'big', size: 32 * MiB, policy: { mode: 'bind', nodes: [2] } })
    // 8192 promotions at 5 µs each: the drain yields at cond_resched() every jiffy.
    while (k.kmigrated.kmigrated_cur_mm === null) k.run(k.now + 1, 1)
    const drained = k.vmstat.get('nr_kscand_migrated') + k.vmstat.get('nr_kscand_migrate_failed')
    expect(drained).toBeGreaterThan(0)
    expect(drained).toBeLessThan(8192)
    k.stopThread('kmigrated')
    expect(k.thread('kmigrated').state).toBe('stopped')
    expect(k.kmigrated.kmigrated_cur_mm).toBeNull()
    const v = k.vmstat.snapshot()
    expect(v.nr_kscand_migrated + v.nr_kscand_migrate_failed).toBe(v.nr_kscand_migadded)
    expect(v.pgpromote_success).toBe(v.nr_kscand_migrated)
    expect(k.kmigrated.queued).toBe(0)
    expect(pagesConserved(k)).toBe(true)
  })
})

describe('scan_enabled and scan_sleep_ms', () => {
  it('scan_enabled = 0 pauses kscand without stopping it; 1 wakes it at once', () => {
    const k = boot()
    k.exec({ comm: 'a', size: 2 * MiB })
    k.run(1000)
    k.kscand.store_scan_enabled(0)
    k.run(1100)
    expect(k.thread('kscand').state).toBe('paused')
    k.run(5000)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(0)
    const trace = capture(k)
    k.kscand.store_scan_enabled(1)
    k.run(5000)
    expect(trace.named('kthread_wake').map((e) => fields(e).reason)).toContain('wake_up')
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(1)
    expect(() => k.kscand.store_scan_enabled(2)).toThrow(/0 or 1/)
    expect(k.kscand.scan_enabled).toBe(true)
  })

  it('scan_sleep_ms = 0: kscand never sleeps, yet virtual time moves by the CPU it burns', () => {
    const k = boot()
    k.exec({ comm: 'a', size: 2 * MiB })
    k.kscand.store_scan_sleep_ms(0)
    k.run(100)
    const trace = capture(k)
    const cycles = k.thread('kscand').cycles
    k.run(200)
    const kscandSleeps = trace.named('kthread_sleep').filter((e) => e.comm === 'kscand')
    expect(kscandSleeps).toHaveLength(0)
    // 4096 visits × 200 ns ≈ 0.82 ms per cycle: about 120 cycles in 100 ms.
    const done = k.thread('kscand').cycles - cycles
    expect(done).toBeGreaterThan(100)
    expect(done).toBeLessThan(130)
    expect(k.now).toBe(200)
  })

  it('scan_sleep_ms = 0 with scanning disabled spins (paused) and resumes on enable', () => {
    const k = boot()
    k.kscand.store_scan_sleep_ms(0)
    k.kscand.store_scan_enabled(0)
    k.run(500)
    expect(k.thread('kscand').state).toBe('paused')
    const cpu = k.thread('kscand').cpuTimeNs()
    k.run(1500)
    // Spinning burns the whole CPU.
    expect(k.thread('kscand').cpuTimeNs() - cpu).toBe(1000 * 1e6)
    k.kscand.store_scan_enabled(1)
    k.run(1500)
    expect(k.thread('kscand').state).not.toBe('paused')
  })

  it('mms_to_scan = 0 behaves like 1: one visit per cycle', () => {
    const k = boot()
    k.exec({ comm: 'a', size: 2 * MiB })
    k.kscand.store_mms_to_scan(0)
    const trace = capture(k)
    k.run(1000)
    const starts = trace.named('kmem_scan_mm_start').length
    expect(starts).toBe(k.thread('kscand').cycles)
  })
})
