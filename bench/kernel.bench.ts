/**
 * The simulated kernel's figures (issue 2): PTE visits per second on the scan path beside a
 * plain typed-array loop, bytes per simulated page for a 256 GiB machine, the cost of a
 * simulated second at 10⁹ vs 10⁶ accesses/s, and the demo machine's speed-up over real time.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { GiB, PR_SET_PTE_A_SCAN_SCALE } from '../src/kernel/constants.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../src/kernel/demo.ts'
import { Kernel } from '../src/kernel/kernel.ts'
import type { BenchRow } from './table.ts'

const BIG = {
  nodes: [
    { capacity: 8 * GiB, cpus: true },
    { capacity: 8 * GiB, cpus: true },
    { capacity: 16 * GiB, cpus: false },
  ],
}

/** A kernel with one 4 GiB process scanned often (prctl scale 1), nothing promoted. */
function scanningKernel(access_rate: number, node: number): Kernel {
  const k = new Kernel({ seed: 3, topology: BIG })
  const p = k.exec({
    comm: 'bench',
    size: 4 * GiB,
    policy: { mode: 'bind', nodes: [node] },
    workload: { pattern: 'uniform' },
    access_rate,
  })
  k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 1)
  k.stopThread('kmigrated')
  // One visit per cycle, so the figure is the scan path, not kscand's no-op visits.
  k.kscand.store_mms_to_scan(1)
  k.run(10_000) // past the initial scan delay, the first scans and the JIT's warm-up
  return k
}

function ptesVisited(k: Kernel): number {
  return k.vmstat.get('nr_kscand_slowtier') + k.vmstat.get('nr_kscand_toptier')
}

/** PTE visits per wall second through kernel.run(), the full per-PTE rule included. */
function scanRate(access_rate: number): number {
  const k = scanningKernel(access_rate, 2)
  const before = ptesVisited(k)
  const t0 = performance.now()
  k.run(k.now + 60_000)
  const s = (performance.now() - t0) / 1000
  return (ptesVisited(k) - before) / s
}

/**
 * PTEs per wall second through NUMA balancing's walk (task_numa_work → change_prot_numa): a
 * 4 GiB process on CXL that never touches its pages, in mode 2, so the first pass marks every
 * PTE and later ones walk PROT_NONE PTEs (8 × scan_size of address space per call).
 */
function numabScanRate(): number {
  // 1 ns a PTE keeps task_numa_work under its 3 % cap: the figure is the walk itself.
  const k = new Kernel({ seed: 3, topology: BIG, numaBalancing: 2, costs: { numabPteNs: 1 } })
  k.stopThread('kscand')
  const p = k.exec({
    comm: 'bench',
    size: 4 * GiB,
    policy: { mode: 'local', cpu_node: 0, mem_node: 2 },
    workload: { pattern: 'idle' },
  })
  const task = k.numab.task(p)!
  const walked = () => (task.scan_ns - task.scans * k.costs.numabScanNs) / k.costs.numabPteNs
  k.run(10_000)
  const before = walked()
  const t0 = performance.now()
  k.run(k.now + 60_000)
  const s = (performance.now() - t0) / 1000
  return (walked() - before) / s
}

/** The same number of elements through a plain loop over the same typed arrays' shapes. */
function plainLoopRate(n: number, rounds: number): number {
  const flags = new Uint8Array(n)
  const next = new Uint32Array(n)
  for (let i = 0; i < n; i++) next[i] = (i * 2654435761) % 2000
  let count = 0
  const t0 = performance.now()
  for (let r = 0; r < rounds; r++) {
    const now = 1000 + r
    for (let i = 0; i < n; i++) {
      if (next[i] <= now) {
        flags[i] = (flags[i] & ~1) | 2
        next[i] = now + 1500
        count++
      } else flags[i] |= 1
    }
  }
  const s = (performance.now() - t0) / 1000
  if (count < 0) throw new Error('unreachable')
  return (n * rounds) / s
}

/** Wall ms to simulate `seconds` of a 4 GiB DRAM-resident process at `access_rate`. */
function costOfSeconds(access_rate: number, seconds: number): number {
  const k = scanningKernel(access_rate, 0)
  const t0 = performance.now()
  k.run(k.now + seconds * 1000)
  return performance.now() - t0
}

function demoSpeedup(seconds: number): number {
  const k = new Kernel(DEMO_CONFIG)
  for (const p of DEMO_PROCESSES) k.exec(p)
  const t0 = performance.now()
  k.run(seconds * 1000)
  return (seconds * 1000) / (performance.now() - t0)
}

/** Resident bytes per simulated page and total RSS, in a fresh process (bench/rss-child.ts). */
function bytesPerPage(): { perPage: number; rssMiB: number } {
  const child = fileURLToPath(new URL('./rss-child.ts', import.meta.url))
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  return JSON.parse(out)
}

/** The PTE walks (issue 14 part 4): kscand's and task_numa_work's, beside a plain loop. */
export async function walkSuite(): Promise<BenchRow[]> {
  const hot = scanRate(1e9)
  const cold = scanRate(1e3)
  const plain = plainLoopRate(1 << 20, 200)
  const numab = numabScanRate()
  const baseline = { name: 'plain typed-array loop', value: plain }
  return [
    {
      name: 'kscand PTE visits/s, every A bit set',
      value: hot,
      unit: 'PTE/s',
      baseline,
      target: '≥ 0.25 × plain',
      pass: hot >= 0.25 * plain,
    },
    {
      name: 'kscand PTE visits/s, A bits mostly clear',
      value: cold,
      unit: 'PTE/s',
      baseline,
      target: '≥ 0.25 × plain',
      pass: cold >= 0.25 * plain,
    },
    {
      name: 'NUMA balancing PTE walk/s (change_prot_numa)',
      value: numab,
      unit: 'PTE/s',
      baseline,
      target: '≥ 0.25 × plain',
      pass: numab >= 0.25 * plain,
    },
  ]
}

export async function kernelSuite(): Promise<BenchRow[]> {
  const c6 = Math.min(costOfSeconds(1e6, 20), costOfSeconds(1e6, 20))
  const c9 = Math.min(costOfSeconds(1e9, 20), costOfSeconds(1e9, 20))
  const demo = demoSpeedup(60)
  const rss = bytesPerPage()
  return [
    {
      name: 'resident memory per simulated 4 KiB page',
      value: rss.perPage,
      unit: 'B/page',
      target: '≤ 8 B/page',
      pass: rss.perPage <= 8,
    },
    {
      name: 'RSS of a full 256 GiB machine after a full scan',
      value: rss.rssMiB,
      unit: 'MiB',
      target: '< 1024 MiB',
      pass: rss.rssMiB < 1024,
    },
    {
      name: 'wall ms per simulated 20 s at 10⁹ accesses/s',
      value: c9,
      unit: 'ms',
      baseline: { name: 'at 10⁶ accesses/s', value: c6 },
      target: 'ratio ≤ 1.2',
      pass: c9 / c6 <= 1.2,
    },
    {
      name: 'demo machine, as fast as possible',
      value: demo,
      unit: '× real time',
      target: '≥ 100×',
      pass: demo >= 100,
    },
  ]
}
