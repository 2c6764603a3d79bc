/**
 * The machine, placement policies, workloads, and what every command does with bad
 * arguments: a typed error naming the problem, and no change to the simulation.
 */
import { describe, expect, it } from 'vitest'
import { GiB, MiB, PAGE_SIZE } from '../../src/kernel/constants.ts'
import { KernelError } from '../../src/kernel/errors.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { Machine } from '../../src/kernel/machine.ts'
import { Permutation } from '../../src/kernel/prng.ts'
import { quantizeRate, RATE } from '../../src/kernel/rate.ts'
import { zeta } from '../../src/kernel/workload.ts'
import { boot, pagesConserved, SMALL } from '../helpers/kernel.ts'

describe('topology', () => {
  it('numbers memory tiers from the abstract distance and finds the top tier', () => {
    const m = new Machine(SMALL)
    expect(m.memoryTiers()).toEqual([
      { id: 4, nodes: [0, 1] },
      { id: 22, nodes: [2] },
    ])
    expect([0, 1, 2].map((n) => m.isToptier(n))).toEqual([true, true, false])
    expect(m.zonelist(1)).toEqual([1, 0, 2])
    for (const n of m.nodes) {
      expect(n.wmarkMin).toBeLessThan(n.wmarkLow)
      expect(n.wmarkLow).toBeLessThan(n.wmarkHigh)
      expect(n.wmarkHigh).toBeLessThan(n.wmarkPromo)
    }
  })

  it('rejects topologies the kernel could not have', () => {
    const bad: [unknown, RegExp][] = [
      [{ nodes: [] }, /number of nodes/],
      [{ nodes: [{ capacity: 4097, cpus: true }] }, /capacity/],
      [{ nodes: [{ capacity: -4096, cpus: true }] }, /capacity/],
      [{ nodes: [{ capacity: GiB, cpus: false }] }, /at least one node with cpus/],
      [{ nodes: [{ capacity: GiB, cpus: true }], distance: [[5]] }, /distance/],
      [
        { nodes: Array.from({ length: 65 }, () => ({ capacity: MiB, cpus: true })) },
        /number of nodes/,
      ],
    ]
    for (const [spec, msg] of bad) {
      expect(() => new Machine(spec as never)).toThrow(msg)
    }
  })
})

describe('placement policies', () => {
  it('local: first touch on the CPU node, falling back by distance, keeping the low watermark', () => {
    const k = boot()
    const n0 = k.machine.nodes[0]
    const p = k.exec({ comm: 'big', size: 100 * MiB, policy: { mode: 'local', cpu_node: 0 } })
    const per = k.processStats(p.pid).pages_per_node
    expect(per[0]).toBe(n0.pages - n0.wmarkLow)
    expect(per[1]).toBe(25600 - per[0])
    expect(per[2]).toBe(0)
  })

  it('local with mem_node: pages start on that node, the task stays on its CPU node', () => {
    const k = boot()
    const p = k.exec({
      comm: 'cxl',
      size: 8 * MiB,
      policy: { mode: 'local', cpu_node: 0, mem_node: 2 },
    })
    expect(k.processStats(p.pid).pages_per_node).toEqual([0, 0, 2048])
    expect(k.numab.task(p)!.cpu_node).toBe(0)
  })

  it('bind and interleave stay on their nodes', () => {
    const k = boot()
    const b = k.exec({ comm: 'b', size: 8 * MiB, policy: { mode: 'bind', nodes: [2] } })
    expect(k.processStats(b.pid).pages_per_node).toEqual([0, 0, 2048])
    const i = k.exec({
      comm: 'i',
      size: 9 * PAGE_SIZE,
      policy: { mode: 'interleave', nodes: [0, 2] },
    })
    expect(Array.from(i.mm.node)).toEqual([0, 2, 0, 2, 0, 2, 0, 2, 0])
  })
})

describe('bad commands change nothing', () => {
  const cases: [string, (k: Kernel) => unknown, string, RegExp][] = [
    ['negative size', (k) => k.exec({ comm: 'x', size: -4096 }), 'EINVAL', /size/],
    ['unaligned size', (k) => k.exec({ comm: 'x', size: 1000 }), 'EINVAL', /size/],
    ['bigger than the machine', (k) => k.exec({ comm: 'x', size: 64 * GiB }), 'EINVAL', /size/],
    [
      'bigger than the free memory',
      (k) => k.exec({ comm: 'x', size: 254 * MiB }),
      'ENOMEM',
      /cannot place/,
    ],
    [
      'bound to a full node',
      (k) => k.exec({ comm: 'x', size: 100 * MiB, policy: { mode: 'bind', nodes: [0] } }),
      'ENOMEM',
      /cannot place/,
    ],
    [
      'unknown node',
      (k) => k.exec({ comm: 'x', size: MiB, policy: { mode: 'bind', nodes: [7] } }),
      'EINVAL',
      /no such node/,
    ],
    [
      'cpuless cpu_node',
      (k) => k.exec({ comm: 'x', size: MiB, policy: { mode: 'local', cpu_node: 2 } }),
      'EINVAL',
      /no cpus/,
    ],
    [
      'unknown policy',
      (k) => k.exec({ comm: 'x', size: MiB, policy: { mode: 'random' } as never }),
      'EINVAL',
      /policy.mode/,
    ],
    [
      'theta 0',
      (k) => k.exec({ comm: 'x', size: MiB, workload: { pattern: 'zipf', theta: 0 } }),
      'EINVAL',
      /theta/,
    ],
    [
      'theta negative',
      (k) => k.exec({ comm: 'x', size: MiB, workload: { pattern: 'zipf', theta: -1 } }),
      'EINVAL',
      /theta/,
    ],
    [
      'hot fraction > 1',
      (k) => k.exec({ comm: 'x', size: MiB, workload: { pattern: 'hotset', hot_fraction: 2 } }),
      'EINVAL',
      /hot_fraction/,
    ],
    [
      'unknown pattern',
      (k) => k.exec({ comm: 'x', size: MiB, workload: { pattern: 'bursty' } as never }),
      'EINVAL',
      /pattern/,
    ],
    [
      'negative access rate',
      (k) => k.exec({ comm: 'x', size: MiB, access_rate: -1 }),
      'EINVAL',
      /access_rate/,
    ],
    ['empty comm', (k) => k.exec({ comm: '', size: MiB }), 'EINVAL', /comm/],
    ['comm too long', (k) => k.exec({ comm: 'a'.repeat(16), size: MiB }), 'EINVAL', /comm/],
    ['no VMAs', (k) => k.exec({ comm: 'x', vmas: [] }), 'EINVAL', /VMA/],
    [
      'bad VMA kind',
      (k) => k.exec({ comm: 'x', vmas: [{ kind: 'stack' as never, size: MiB }] }),
      'EINVAL',
      /kind/,
    ],
    [
      'size and vmas',
      (k) => k.exec({ comm: 'x', size: MiB, vmas: [{ kind: 'anon', size: MiB }] }),
      'EINVAL',
      /either/,
    ],
    ['fork of no process', (k) => k.fork(1), 'ESRCH', /no such process/],
    ['exit of no process', (k) => k.exit(31337), 'ESRCH', /no such process/],
    ['touch of an unmapped address', (k) => k.touch(1000, 0), 'EINVAL', /not mapped/],
    ['run backwards in type', (k) => k.run(Number.NaN), 'EINVAL', /until/],
  ]

  for (const [what, cmd, code, msg] of cases) {
    it(`${what}: ${code}`, () => {
      const k = boot()
      k.exec({ comm: 'base', size: 4 * MiB })
      k.run(100)
      const before = {
        free: k.machine.nodes.map((n) => n.free),
        procs: k.processList().map((p) => p.pid),
        slots: k.kscand.list().length,
        now: k.now,
      }
      let err: unknown
      try {
        cmd(k)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(KernelError)
      expect((err as KernelError).code).toBe(code)
      expect((err as KernelError).message).toMatch(msg)
      expect({
        free: k.machine.nodes.map((n) => n.free),
        procs: k.processList().map((p) => p.pid),
        slots: k.kscand.list().length,
        now: k.now,
      }).toEqual(before)
      expect(pagesConserved(k)).toBe(true)
      // The next process still gets the next pid.
      expect(k.exec({ comm: 'next', size: MiB }).pid).toBe(1001)
    })
  }

  it('a kernel config with a bad seed or cost is refused', () => {
    expect(() => new Kernel({ seed: -1 })).toThrow(/seed/)
    expect(() => new Kernel({ costs: { pteNs: Number.NaN } })).toThrow(/pteNs/)
  })
})

describe('workloads', () => {
  it('rates quantize to within 0.04 %', () => {
    for (const r of [1e-6, 0.5, 3, 1234.5, 1e7]) {
      expect(Math.abs(RATE[quantizeRate(r)] / r - 1)).toBeLessThan(4e-4)
    }
    expect(quantizeRate(0)).toBe(0)
  })

  it('the Feistel permutation is a bijection', () => {
    for (const n of [1, 2, 3, 1000, 4097]) {
      const perm = new Permutation(n, 9)
      const seen = new Set(Array.from({ length: n }, (_, i) => perm.map(i)))
      expect(seen.size).toBe(n)
      expect(Math.max(...seen)).toBe(n - 1)
    }
  })

  it('ζ(n, θ) matches the direct sum beyond the exact part', () => {
    let direct = 0
    for (let r = 1; r <= 300_000; r++) direct += r ** -0.99
    expect(zeta(300_000, 0.99) / direct - 1).toBeLessThan(1e-9)
  })

  it('scrambled Zipf: rates sum to the access rate and the hottest pages are scattered', () => {
    const k = boot()
    const p = k.exec({
      comm: 'z',
      size: 16 * MiB,
      workload: { pattern: 'zipf', theta: 0.99 },
      access_rate: 1e6,
    })
    const rates = Array.from(p.mm.rateQ, (q) => RATE[q])
    const sum = rates.reduce((a, b) => a + b, 0)
    expect(Math.abs(sum / 1e6 - 1)).toBeLessThan(1e-3)
    const top = rates
      .map((r, i) => [r, i])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 16)
      .map(([, i]) => i)
    // Not clustered at the start of the address space.
    expect(Math.max(...top) - Math.min(...top)).toBeGreaterThan(1024)
  })

  it('hot set: 90 % of accesses on 10 % of pages, moving at shift_at_ms', () => {
    const k = boot()
    const p = k.exec({
      comm: 'g',
      size: 4 * MiB,
      workload: { pattern: 'hotset', hot_fraction: 0.1, shift_at_ms: 1000 },
      access_rate: 1e5,
    })
    const hotPages = () => Array.from(p.mm.rateQ).flatMap((q, i) => (RATE[q] > 50 ? [i] : []))
    const before = hotPages()
    expect(before).toHaveLength(102)
    expect(before[0]).toBe(0)
    const hotShare = before.reduce((s, i) => s + RATE[p.mm.rateQ[i]], 0) / 1e5
    expect(hotShare).toBeGreaterThan(0.9)
    k.run(1001)
    const after = hotPages()
    expect(after).toHaveLength(102)
    expect(after[0]).toBe(102)
  })

  it('sequential: every page is next accessed one sweep later, in address order', () => {
    const k = boot()
    // 64 pages × 64 lines at 4096 lines/s: one sweep per second.
    const p = k.exec({
      comm: 's',
      size: 64 * PAGE_SIZE,
      workload: { pattern: 'sequential' },
      access_rate: 4096,
    })
    k.run(2100) // first scan clears the fault-time A bits
    const next = Array.from(p.mm.nextAccess)
    expect(next[0]).toBe(3000)
    expect(next[32]).toBe(2500)
    expect(next[63]).toBe(2985)
  })
})

describe('kswapd', () => {
  it('goes on past a batch of the clock that holds none of its node’s pages', () => {
    const k = boot()
    k.stopThread('kscand')
    // An idle process on node 0, then one whose last 4096+ pages spilled onto node 1.
    k.exec({
      comm: 'idle',
      size: 40 * MiB,
      policy: { mode: 'bind', nodes: [0] },
      workload: { pattern: 'idle' },
    })
    const b = k.exec({ comm: 'spill', size: 48 * MiB, policy: { mode: 'local', cpu_node: 0 } })
    expect(k.processStats(b.pid).pages_per_node[1]).toBeGreaterThan(4096)
    const n0 = k.machine.nodes[0]
    expect(n0.free).toBeLessThan(n0.wmarkPromo)
    k.wakeupKswapd(0)
    k.advance(100)
    // The idle pages lose their fault-time Accessed bit on the first sweep and go on the second.
    expect(n0.free).toBeGreaterThanOrEqual(n0.wmarkPromo)
    expect(k.vmstat.get('pgdemote_kswapd')).toBeGreaterThan(0)
  })
})
