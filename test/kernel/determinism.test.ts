/**
 * Determinism, the kernel's rule: the same seed and the same commands at the same virtual
 * times give a byte-identical trace, however the host slices the run. A failure names the
 * seed and the first line where the two traces part, which is where to start reproducing.
 */
import { describe, expect, it } from 'vitest'
import { MiB, PR_SET_PTE_A_SCAN_SCALE } from '../../src/kernel/constants.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../../src/kernel/demo.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { allBut, capture } from '../helpers/kernel.ts'

/** The failure message: the seed and the first line the traces differ at. */
function reproduce(seed: number, a: readonly string[], b: readonly string[]): string {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return (
    `seed=${seed}: the traces part at line ${i + 1} of ${a.length} / ${b.length}\n` +
    `  ${a[i] ?? '(end of trace)'}\n  ${b[i] ?? '(end of trace)'}`
  )
}

describe('determinism', () => {
  type Run = (k: Kernel, until: number) => void
  const atOnce: Run = (k, until) => k.run(until)

  function traceOf(
    seed: number,
    withStarts = false,
    mmsToScan = 4096,
    run = atOnce,
    numaBalancing = 0,
  ): string[] {
    const k = new Kernel({ ...DEMO_CONFIG, seed, numaBalancing })
    const trace = capture(k, withStarts ? undefined : allBut('kmem_scan_mm_start'))
    k.kscand.store_mms_to_scan(mmsToScan)
    for (const p of DEMO_PROCESSES) k.exec(p)
    if (numaBalancing) {
      // The demo's processes all have numactl policies, which NUMA balancing leaves alone: one
      // more under the default policy, with pages on the other DRAM node and on CXL.
      const mm = k.exec({
        comm: 'local',
        size: 32 * MiB,
        policy: { mode: 'local', cpu_node: 0 },
      }).mm
      for (let i = 0; i < mm.nrPages; i += 2) k.movePage(mm, i, i % 4 === 0 ? 1 : 2)
    }
    run(k, 2500)
    k.kscand.store_scan_sleep_ms(5)
    k.prctl(1000, PR_SET_PTE_A_SCAN_SCALE, 2)
    run(k, 4000)
    k.exit(1002)
    run(k, 4400)
    k.stopThread('kmigrated')
    run(k, 4700)
    k.startThread('kmigrated')
    run(k, 5500)
    return trace.lines()
  }

  it('one thread resumption per call, as the runner drives it, gives the same trace', () => {
    // Between calls threads may be parked at host yields (inside a walk, a drain): the exit
    // and the stop above then land there.
    let calls = 0
    const oneByOne: Run = (k, until) => {
      while (!k.run(until, 1)) calls++
    }
    const a = traceOf(42, false, 4096, oneByOne)
    expect(calls).toBeGreaterThan(10_000)
    const b = traceOf(42)
    expect(a.join('\n'), reproduce(42, a, b)).toBe(b.join('\n'))
  })

  it('the same seed and commands give a byte-identical trace; another seed does not', () => {
    const a = traceOf(42)
    expect(a.length).toBeGreaterThan(10_000)
    const b = traceOf(42)
    expect(b.join('\n'), reproduce(42, a, b)).toBe(a.join('\n'))
    expect(traceOf(43).join('\n')).not.toBe(a.join('\n'))
  })

  it('with NUMA balancing on (mode 3, both promoters): byte-identical per seed, in one go or step by step', () => {
    const a = traceOf(42, false, 4096, atOnce, 3)
    expect(a.some((l) => l.includes('mm_migrate_pages'))).toBe(true)
    const again = traceOf(42, false, 4096, atOnce, 3)
    expect(again.join('\n'), reproduce(42, a, again)).toBe(a.join('\n'))
    const oneByOne: Run = (k, until) => {
      while (!k.run(until, 1)) {}
    }
    const stepped = traceOf(42, false, 4096, oneByOne, 3)
    expect(stepped.join('\n'), reproduce(42, a, stepped)).toBe(a.join('\n'))
    expect(traceOf(43, false, 4096, atOnce, 3).join('\n')).not.toBe(a.join('\n'))
  })

  it('the trace of an enabled event does not depend on which other events are enabled', () => {
    const run = (names?: Parameters<typeof capture>[1]) => {
      const k = new Kernel({ ...DEMO_CONFIG, seed: 42 })
      const trace = capture(k, names)
      for (const p of DEMO_PROCESSES) k.exec(p)
      k.run(15_000)
      return trace.lines().filter((l) => l.includes(' kmem_scan_mm_end: '))
    }
    const alone = run(['kmem_scan_mm_end'])
    expect(alone.length).toBeGreaterThan(10)
    // With every event on (kmem_scan_mm_start makes kscand visit one by one), and with the
    // migrations on besides.
    const all = run()
    expect(all.join('\n'), reproduce(42, alone, all)).toBe(alone.join('\n'))
    const some = run(['kmem_scan_mm_end', 'kmem_scan_mm_migrate', 'kthread_wake'])
    expect(some.join('\n'), reproduce(42, alone, some)).toBe(alone.join('\n'))
  })

  it('tracing every visit (kscand visits one by one) changes nothing else', () => {
    // 256 visits a cycle keeps the number of traced visits small.
    const withStarts = traceOf(42, true, 256).filter((l) => !l.includes('kmem_scan_mm_start'))
    const without = traceOf(42, false, 256)
    expect(withStarts.join('\n'), reproduce(42, withStarts, without)).toBe(without.join('\n'))
  })
})
