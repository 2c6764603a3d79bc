/**
 * The simulated sysfs (and /proc/vmstat), declared once. Each file has its path, mode,
 * show, store, parser and doc here (in file.ts's terms); the routes, the directory
 * listings, the OpenAPI document and the README table are all generated from this table.
 *
 * Files follow docs/spec/kscand-v3.md §3 (kscand), docs/spec/kernel-interfaces.md §4.4–§4.5
 * (numa, memory_tiering) and drivers/base/node.c (node directory). Files under
 * /sys/kernel/mm/kmigrated/ are kscand-sim extensions: V3 never exposed them.
 */
import { z } from 'zod'
import type { Kernel } from '../kernel/kernel.ts'
import { QUIRK_NAMES } from '../kernel/spec.ts'
import { knob, rangeList, readOnly, type SysfsFile, U32 } from './file.ts'
import { U64_MAX } from './kstrto.ts'
import { nodeMemoryFiles, procMeminfo, procVmstatFile, procZoneinfo } from './meminfo.ts'
import { numaBalancingFiles } from './numa-balancing.ts'

const NodeIds = z.array(z.number().int()).describe('node ids')
const U64 = z
  .union([z.number().int().min(0), z.string().regex(/^\d+$/)])
  .describe('a number, or a decimal string above 2^53')

/** Where tracefs is mounted: an empty sysfs directory (sysfs_create_mount_point). */
export const TRACEFS = '/sys/kernel/tracing'

const KSCAND = '/sys/kernel/mm/kscand'
export const SCAN_ENABLED = `${KSCAND}/scan_enabled`
const KMIGRATED = '/sys/kernel/mm/kmigrated'
const NODE = '/sys/devices/system/node'
const TIERS = '/sys/devices/virtual/memory_tiering'
const WAKES = 'A write wakes kscand at once (kscand_sleep_expire = 0, wake_up_interruptible).'

/**
 * mms_to_scan is a u64 but the kernel keeps a JS number: the exact text of the last write
 * is kept beside it, and reads print what was written even above 2^53. The text lives in
 * the table, so a kernel has one table (the app's, shared by everything that serves it).
 */
function mmsToScan(k: Kernel) {
  let exact: { value: number; text: string } | null = null
  const text = (v: number) => {
    if (exact?.value === v) return exact.text
    if (Number.isSafeInteger(v)) return String(v)
    const big = BigInt(v)
    return (big > U64_MAX ? U64_MAX : big).toString()
  }
  return {
    text,
    json: (v: number) => (Number.isSafeInteger(v) ? v : text(v)),
    store: (v: bigint) => {
      const n = Number(v)
      k.kscand.store_mms_to_scan(n)
      exact = { value: n, text: v.toString() }
    },
  }
}

function kscandFiles(k: Kernel): SysfsFile[] {
  const ks = k.kscand
  const mms = mmsToScan(k)
  return [
    knob({
      path: SCAN_ENABLED,
      parser: 'kstrtouint',
      doc:
        'Global switch of the scan: 1 (default) or 0; any other value is EINVAL. Disabling does ' +
        'not stop the kthread: kscand leaves its current mm and waits until re-enabled ' +
        '(thread state `paused`); kmigrated keeps draining. ' +
        WAKES,
      value: z.union([z.literal(0), z.literal(1)]),
      get: () => (ks.scan_enabled ? 1 : 0),
      store: (v) => ks.store_scan_enabled(v),
    }),
    knob({
      path: `${KSCAND}/scan_sleep_ms`,
      parser: 'kstrtouint',
      doc: `Pause between two scan cycles, in ms (default 20; any u32, 0 means no sleep). ${WAKES}`,
      value: U32,
      get: () => ks.scan_sleep_ms,
      store: (v) => ks.store_scan_sleep_ms(v),
    }),
    knob({
      path: `${KSCAND}/mm_scan_period_ms`,
      parser: 'kstrtouint',
      doc:
        'Initial scan_period of mms registered after the write, in ms (default 2000). ' +
        'Out-of-range values are clamped to [600, 5000], not rejected; mms already ' +
        `registered keep their own period. ${WAKES}`,
      value: U32,
      get: () => ks.mm_scan_period_ms,
      store: (v) => ks.store_mm_scan_period_ms(v),
    }),
    knob({
      path: `${KSCAND}/mms_to_scan`,
      parser: 'kstrtoul',
      doc:
        'Most mm visits per scan cycle (default 4096; any u64, 0 included). Visits of mms ' +
        `that are not due count too. ${WAKES}`,
      value: U64,
      get: () => ks.mms_to_scan,
      format: mms.text,
      toJson: mms.json,
      store: mms.store,
    }),
    knob({
      path: `${KSCAND}/target_node`,
      parser: 'kstrtoint',
      doc:
        'Fallback promotion node (default 0), used when the target-node heuristic has no ' +
        `better choice. Must be a top-tier node, else EINVAL. ${WAKES}`,
      value: z.number().int(),
      get: () => ks.target_node,
      store: (v) => ks.store_target_node(v),
    }),
  ]
}

/** The file of a quirk switch. */
export function quirkPath(name: (typeof QUIRK_NAMES)[number]): string {
  return `${KMIGRATED}/quirks/${name}`
}

export const DEMOTION_ENABLED = '/sys/kernel/mm/numa/demotion_enabled'

function kmigratedFiles(k: Kernel): SysfsFile[] {
  const ext =
    'Extension: kscand-sim only, not a file of the V3 series (which has no kmigrated knobs).'
  return [
    knob({
      path: `${KMIGRATED}/kmigrate_sleep_ms`,
      parser: 'kstrtouint',
      extension: true,
      doc:
        'Pause between two migration cycles, in ms (default 20; any u32). kmigrated also ' +
        'sleeps a fixed 20 ms each loop. A write ends the current wait. Parse errors are ' +
        `EINVAL, as for kscand's files. ${ext}`,
      value: U32,
      get: () => k.kmigrated.kmigrate_sleep_ms,
      store: (v) => k.kmigrated.store_kmigrate_sleep_ms(v),
    }),
    ...QUIRK_NAMES.map((name) =>
      knob({
        path: quirkPath(name),
        parser: 'kstrtobool',
        extension: true,
        doc:
          `Behaviour of the posted V3 code (docs/spec/kscand-v3.md §7.13): 1 (default) reproduces it, ` +
          `0 switches it off. Reads 0/1, takes kstrtobool input. ${ext}`,
        value: z.union([z.literal(0), z.literal(1)]),
        get: () => (k.quirks[name] ? 1 : 0),
        store: (v) => {
          k.quirks[name] = v
        },
      }),
    ),
  ]
}

function numaFiles(k: Kernel): SysfsFile[] {
  return [
    knob({
      path: DEMOTION_ENABLED,
      parser: 'kstrtobool',
      doc:
        'Demote pages from the top tier to slower tiers during reclaim (kswapd), before swap. ' +
        'Reads `true`/`false`; takes kstrtobool input (1/0, y/n, on/off, true/false, …). ' +
        'On by default in the simulation (the kernel default is off).',
      value: z.boolean(),
      get: () => k.demotion_enabled,
      store: (v) => {
        k.demotion_enabled = v
      },
    }),
  ]
}

function topologyFiles(k: Kernel): SysfsFile[] {
  const m = k.machine
  const ids = (pred: (n: (typeof m.nodes)[number]) => boolean) =>
    m.nodes.filter(pred).map((n) => n.id)
  const nodeList = (path: string, doc: string, get: () => number[]) =>
    readOnly(path, doc, NodeIds, () => `${rangeList(get())}\n`, get)
  return [
    nodeList(`${NODE}/possible`, 'Nodes that could ever be online.', () => ids(() => true)),
    nodeList(`${NODE}/online`, 'Nodes online.', () => ids(() => true)),
    nodeList(`${NODE}/has_normal_memory`, 'Nodes with ZONE_NORMAL memory.', () =>
      ids((n) => n.pages > 0),
    ),
    nodeList(`${NODE}/has_memory`, 'Nodes with memory.', () => ids((n) => n.pages > 0)),
    nodeList(`${NODE}/has_cpu`, 'Nodes with CPUs.', () => ids((n) => n.cpus)),
    nodeList(
      `${NODE}/has_generic_initiator`,
      'Nodes with a generic initiator (ACPI SRAT): none, an empty line.',
      () => [],
    ),
    ...m.nodes.flatMap((node) => {
      const dir = `${NODE}/node${node.id}`
      return [
        ...nodeMemoryFiles(k, node, dir),
        readOnly(
          `${dir}/distance`,
          `SLIT distances from node ${node.id} to every node.`,
          z.array(z.number().int()),
          () => `${m.distance[node.id].join(' ')}\n`,
          () => m.distance[node.id],
        ),
      ]
    }),
    ...m
      .memoryTiers()
      .map((tier) =>
        nodeList(
          `${TIERS}/memory_tier${tier.id}/nodelist`,
          `Nodes in memory tier ${tier.id} (abstract distance ${tier.id * 128}–${tier.id * 128 + 127}; ` +
            'a smaller tier id is a faster tier). Read-only: tiers follow the topology.',
          () => tier.nodes,
        ),
      ),
  ]
}

function procFiles(k: Kernel): SysfsFile[] {
  return [procMeminfo(k), procZoneinfo(k), procVmstatFile(k)]
}

/** Every file of a kernel, in listing order. */
export function sysfsTable(k: Kernel): SysfsFile[] {
  return [
    ...kscandFiles(k),
    ...kmigratedFiles(k),
    ...numaFiles(k),
    ...numaBalancingFiles(k),
    ...topologyFiles(k),
    ...procFiles(k),
  ]
}

/**
 * Directories under /sys and /proc and their entries (names of files and subdirectories).
 * /proc also holds a directory per process: its listing (routes/proc.ts) adds them. The
 * tracefs mount point is an entry of /sys/kernel; tracefs lists its own tree.
 */
export function sysfsDirectories(files: readonly SysfsFile[]): Map<string, Set<string>> {
  return directoriesOf([...files.map((f) => f.path), TRACEFS])
}

/** The directories above each path, with their entries. */
export function directoriesOf(paths: readonly string[]): Map<string, Set<string>> {
  const dirs = new Map<string, Set<string>>()
  for (const path of paths) {
    if (!path.startsWith('/sys/') && !path.startsWith('/proc/')) continue
    const parts = path.split('/').slice(1)
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`
      const entries = dirs.get(dir) ?? new Set()
      dirs.set(dir, entries.add(parts[i]))
    }
  }
  return dirs
}
