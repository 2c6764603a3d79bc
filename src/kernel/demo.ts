/**
 * The demo machine `npm start` runs: two DRAM nodes with CPUs and one CXL node, and three
 * processes chosen so that the first ten seconds show promotion, the target-node heuristic
 * and scan_period adaptation:
 * - `memcached` (node 1, half its pages on CXL): scrambled Zipf θ=0.99 — its hot pages are
 *   found on the CXL node and promoted to node 1, the top-tier node it accesses most;
 * - `gups` (bound to the CXL node at start): a 10 % hot set taking 90 % of accesses, which
 *   moves at t = 20 s — no top-tier accesses, so its target is the sysfs target_node;
 * - `backup` (interleaved DRAM/CXL, nearly idle): its first scan sees the A bits left by the
 *   page faults (case 2: 1066 ms, 4 GiB); later scans find nothing, but the decayed count of
 *   that first scan keeps it in case 4 (−15 %, then ×16/9 for scale 8): 1610, 2432, 3674 ms …
 *   up to 8888 ms — scan_period adaptation within ten seconds.
 * With the faithful kmigrated_sticky_slot quirk only the first mm that got a migration list
 * is ever drained (docs/spec/kscand-v3.md §7.9); turning the quirk off shows the round-robin
 * behaviour.
 */
import { GiB, MiB } from './constants.ts'
import { DEFAULT_TOPOLOGY } from './machine.ts'
import type { KernelConfig, ProcessSpec } from './spec.ts'

export const DEMO_CONFIG: KernelConfig = { seed: 42, topology: DEFAULT_TOPOLOGY }

export const DEMO_PROCESSES: readonly ProcessSpec[] = [
  {
    comm: 'memcached',
    vmas: [
      { kind: 'file_ro', size: 16 * MiB },
      { kind: 'anon', size: 3 * GiB },
      { kind: 'anon', size: 8 * MiB },
    ],
    policy: { mode: 'interleave', nodes: [1, 2] },
    workload: { pattern: 'zipf', theta: 0.99 },
    access_rate: 2e6,
  },
  {
    comm: 'gups',
    size: 2 * GiB,
    policy: { mode: 'bind', nodes: [2] },
    workload: {
      pattern: 'hotset',
      hot_fraction: 0.1,
      hot_access_fraction: 0.9,
      shift_at_ms: 20_000,
    },
    access_rate: 1e6,
  },
  {
    comm: 'backup',
    size: 1 * GiB,
    policy: { mode: 'interleave', nodes: [0, 2] },
    workload: { pattern: 'uniform' },
    access_rate: 10,
  },
]
