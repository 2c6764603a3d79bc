/**
 * NUMA balancing's files (docs/numa-balancing.md §2): the two sysctls under
 * /proc/sys/kernel (proc_dointvec_minmax: every failure is EINVAL), the debugfs u32 knobs
 * under /sys/kernel/debug/sched/numa_balancing (kstrtoull base 0, errno passed through, the
 * value truncated to 32 bits as debugfs_u32_set() stores it), and the extension switches
 * under /sys/kernel/numab/quirks (not under /sys/kernel/mm, whose listing is the kernel's).
 */
import { z } from 'zod'
import { einval } from '../kernel/errors.ts'
import type { Kernel } from '../kernel/kernel.ts'
import { NUMA_BALANCING_MAX, NUMAB_QUIRK_NAMES } from '../kernel/numa-balancing.ts'
import { knob, type SysfsFile, U32 } from './file.ts'

const SYSCTL = '/proc/sys/kernel'
const DEBUGFS = '/sys/kernel/debug/sched/numa_balancing'
const QUIRKS = '/sys/kernel/numab/quirks'
const INT_MAX = 0x7fff_ffff

/** debugfs_u32_set(): `*(u32 *)data = val`. */
const u32 = (v: bigint) => Number(BigInt.asUintN(32, v))

export function numaBalancingFiles(k: Kernel): SysfsFile[] {
  const nb = k.numab
  const debugfs = (
    name: string,
    doc: string,
    get: () => number,
    set: (v: number) => void,
  ): SysfsFile =>
    knob({
      path: `${DEBUGFS}/${name}`,
      parser: 'kstrtoull',
      passErrno: true,
      doc:
        `${doc} A debugfs u32 (debugfs_create_u32): at most 23 bytes are parsed, as decimal, ` +
        '`0x` hex or `0` octal; overflow is ERANGE, other junk EINVAL; values above 2^32 − 1 ' +
        'are stored modulo 2^32.',
      value: U32,
      get,
      store: (v) => set(u32(v)),
    })
  return [
    knob({
      path: `${SYSCTL}/numa_balancing`,
      parser: 'proc_dointvec_minmax',
      doc:
        'NUMA balancing mode, the OR of 1 (NUMA_BALANCING_NORMAL: locality balancing, both ' +
        'tiers scanned) and 2 (NUMA_BALANCING_MEMORY_TIERING: hot slow-tier pages promoted by ' +
        'hint-fault latency); 0 (the default here) is off. The range check accepts 0–4, as ' +
        'the kernel does (4 has neither bit). Turning the tiering bit on resets every node’s ' +
        'hot threshold (reset_memory_tiering). Parsed as proc_dointvec: leading blanks, base ' +
        '0, anything after the number and a blank ignored; every failure is EINVAL.',
      value: z.number().int().min(0).max(NUMA_BALANCING_MAX),
      get: () => nb.mode,
      store: (v) => {
        if (v < 0 || v > NUMA_BALANCING_MAX)
          throw einval(`numa_balancing must be in [0, ${NUMA_BALANCING_MAX}], got ${v}`)
        nb.store_mode(v)
      },
    }),
    knob({
      path: `${SYSCTL}/numa_balancing_promote_rate_limit_MBps`,
      parser: 'proc_dointvec_minmax',
      doc:
        'Most MB/s each node takes as promotion candidates in tiering mode (default 65536, in ' +
        'effect unlimited); beyond it promotion stops until the next 1-s window. Also sets the ' +
        'reference of the 60-s threshold adjustment. Any int ≥ 0; parsed as numa_balancing.',
      value: z.number().int().min(0).max(INT_MAX),
      get: () => nb.promote_rate_limit_MBps,
      store: (v) => {
        if (v < 0) throw einval(`numa_balancing_promote_rate_limit_MBps must be ≥ 0, got ${v}`)
        nb.store_promote_rate_limit(v)
      },
    }),
    debugfs(
      'scan_delay_ms',
      'Delay of a new mm’s first scan and of a new VMA’s, and the initial scan period (ms, ' +
        'default 1000). kscand’s first scan of an mm waits twice this.',
      () => k.numa_balancing_scan_delay_ms,
      (v) => {
        k.numa_balancing_scan_delay_ms = v
      },
    ),
    debugfs(
      'scan_period_min_ms',
      'Shortest time for one full pass over a task’s memory (ms, default 1000), divided by ' +
        'its number of scan_size windows; never below 1000 / (2560 / scan_size_mb) per window.',
      () => nb.scan_period_min_ms,
      (v) => {
        nb.scan_period_min_ms = v
      },
    ),
    debugfs(
      'scan_period_max_ms',
      'Longest time for one full pass (ms, default 60000), divided like the minimum; also ' +
        'the period of the hot-threshold adjustment in tiering mode.',
      () => nb.scan_period_max_ms,
      (v) => {
        nb.scan_period_max_ms = v
      },
    ),
    debugfs(
      'scan_size_mb',
      'MB of PTEs one scan marks (default 256), with up to 8 times that of address space ' +
        'walked. 0 is EINVAL here: the kernel takes it and then divides by zero.',
      () => nb.scan_size_mb,
      (v) => {
        if (v === 0) throw einval('scan_size_mb must not be 0')
        nb.scan_size_mb = v
      },
    ),
    debugfs(
      'hot_threshold_ms',
      'A slow-tier page whose hint fault comes sooner than this after its scan is hot (ms, ' +
        'default 1000); the per-node threshold adjusts from it in steps of 2/16 of it.',
      () => nb.hot_threshold_ms,
      (v) => {
        nb.hot_threshold_ms = v
      },
    ),
    ...NUMAB_QUIRK_NAMES.map((name) =>
      knob({
        path: `${QUIRKS}/${name}`,
        parser: 'kstrtobool',
        extension: true,
        doc:
          'Derived behaviour of the v6.16 NUMA-balancing code (docs/numa-balancing.md §11): 1 ' +
          '(default) reproduces it, 0 switches it off. Reads 0/1, takes kstrtobool input. ' +
          'Extension: kscand-sim only.',
        value: z.union([z.literal(0), z.literal(1)]),
        get: () => (nb.quirks[name] ? 1 : 0),
        store: (v) => {
          nb.quirks[name] = v
        },
      }),
    ),
  ]
}
