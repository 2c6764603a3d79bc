/**
 * The memory files kernel people read: /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show()),
 * /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print()), /proc/vmstat, and per node
 * /sys/devices/system/node/nodeN/{meminfo,numastat,vmstat} (drivers/base/node.c
 * node_read_meminfo(), node_read_numastat(), node_read_vmstat()), as 6.16 prints them for an
 * x86-64 distribution config: docs/spec/kernel-interfaces.md §7.
 * Every line the kernel prints is printed; what the simulation does not model reads 0
 * (docs/simulation.md, "procfs").
 */
import { z } from 'zod'
import { PAGE_SIZE } from '../kernel/constants.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { NumaNode } from '../kernel/machine.ts'
import { type NodePages, nodePages } from '../kernel/node-pages.ts'
import { VMSTAT_NAMES } from '../kernel/vmstat.ts'
import { readOnly, type SysfsFile } from './file.ts'

const KB = PAGE_SIZE / 1024
/** VMALLOC_TOTAL of x86-64 with 4-level page tables (32 TiB), in kB. */
const VMALLOC_TOTAL_KB = 34359738367
/** HPAGE_PMD_SIZE in kB: Hugepagesize of x86-64. */
const HUGEPAGESIZE_KB = 2048
/** sysctl_overcommit_ratio's default. */
const OVERCOMMIT_RATIO = 50

/** One line of a meminfo file: a field, its value, and `kB` unless it counts huge pages. */
export interface MeminfoField {
  readonly name: string
  readonly value: number
  readonly unit: 'kB' | null
}

const Fields = z
  .array(
    z.object({
      name: z.string().describe('the field, as the kernel names it'),
      value: z.number().int(),
      unit: z.enum(['kB']).nullable(),
    }),
  )
  .describe('the lines in order')

/** The LRU lists of a node's pages: every page is on the active list (no inactive list here). */
function lru(p: NodePages) {
  return {
    activeAnon: p.anon - p.mlocked + p.shmem,
    activeFile: p.file,
    unevictable: p.mlocked,
  }
}

/** The fields both meminfo files print from node page counts, in pages. */
function lruFields(p: NodePages) {
  const l = lru(p)
  return {
    Active: l.activeAnon + l.activeFile,
    Inactive: 0,
    'Active(anon)': l.activeAnon,
    'Inactive(anon)': 0,
    'Active(file)': l.activeFile,
    'Inactive(file)': 0,
    Unevictable: l.unevictable,
    Mlocked: p.mlocked,
  }
}

function sum(pages: readonly NodePages[]): NodePages {
  const total = { free: 0, anon: 0, file: 0, shmem: 0, mlocked: 0, hugetlb: 0, other: 0 }
  for (const p of pages)
    for (const key of Object.keys(total) as (keyof NodePages)[]) total[key] += p[key]
  return total
}

const kb = (name: string, pages: number): MeminfoField => ({ name, value: pages * KB, unit: 'kB' })
const kbRaw = (name: string, value: number): MeminfoField => ({ name, value, unit: 'kB' })
const count = (name: string, value: number): MeminfoField => ({ name, value, unit: null })
/** Fields the simulation has no state for: 0 kB. */
const zeros = (...names: string[]) => names.map((name) => kbRaw(name, 0))
/** Slab, kernel stacks and page tables, and the always-zero fields after them. */
const SLAB = ['KReclaimable', 'Slab', 'SReclaimable', 'SUnreclaim']
const KERNEL = [
  'KernelStack',
  'PageTables',
  'SecPageTables',
  'NFS_Unstable',
  'Bounce',
  'WritebackTmp',
]
const THP = ['AnonHugePages', 'ShmemHugePages', 'ShmemPmdMapped', 'FileHugePages', 'FilePmdMapped']

/**
 * calculate_totalreserve_pages(): per zone its high watermark and largest lowmem_reserve
 * (0 here: the other zones are empty).
 */
function totalreservePages(nodes: readonly NumaNode[]): number {
  return nodes.reduce((s, n) => s + Math.min(n.wmarkHigh, n.pages), 0)
}

/** si_mem_available(): free above the reserves, plus the part of the page cache kswapd could free. */
function memAvailable(nodes: readonly NumaNode[], total: NodePages): number {
  const wmarkLow = nodes.reduce((s, n) => s + n.wmarkLow, 0)
  const pagecache = total.file
  const available =
    total.free -
    totalreservePages(nodes) +
    pagecache -
    Math.min(Math.floor(pagecache / 2), wmarkLow)
  return Math.max(0, available)
}

/** The x86-64 direct map, as if built with the largest pages that fit: 1G, then 2M, then 4k. */
function directMap(totalKb: number): MeminfoField[] {
  const g = Math.floor(totalKb / 1048576) * 1048576
  const m = Math.floor((totalKb - g) / 2048) * 2048
  return [kbRaw('DirectMap4k', totalKb - g - m), kbRaw('DirectMap2M', m), kbRaw('DirectMap1G', g)]
}

/** /proc/meminfo's fields in meminfo_proc_show()'s order. */
export function meminfo(k: Kernel): MeminfoField[] {
  const nodes = k.machine.nodes
  const total = sum(nodePages(k))
  const totalram = nodes.reduce((s, n) => s + n.pages, 0)
  // vm_committed_as: private writable and shared anonymous mappings (VM_ACCOUNT).
  let committed = 0
  for (const p of k.processList())
    for (const v of p.mm.vmas)
      if (v.kind === 'anon' || v.kind === 'mlocked' || v.kind === 'shared') committed += v.nrPages
  const lruKb = Object.entries(lruFields(total)).map(([name, pages]) => kb(name, pages))
  return [
    kb('MemTotal', totalram),
    kb('MemFree', total.free),
    kb('MemAvailable', memAvailable(nodes, total)),
    kb('Buffers', 0),
    kb('Cached', total.file + total.shmem),
    kb('SwapCached', 0),
    ...lruKb,
    ...zeros('SwapTotal', 'SwapFree', 'Zswap', 'Zswapped', 'Dirty', 'Writeback'),
    kb('AnonPages', total.anon),
    kb('Mapped', total.file + total.shmem),
    kb('Shmem', total.shmem),
    ...zeros(...SLAB),
    ...zeros(...KERNEL),
    kb('CommitLimit', Math.floor((totalram * OVERCOMMIT_RATIO) / 100)),
    kb('Committed_AS', committed),
    kbRaw('VmallocTotal', VMALLOC_TOTAL_KB),
    kb('VmallocUsed', 0),
    kb('VmallocChunk', 0),
    kb('Percpu', 0),
    kbRaw('HardwareCorrupted', 0),
    ...zeros(...THP, 'CmaTotal', 'CmaFree', 'Unaccepted', 'Balloon'),
    count('HugePages_Total', 0),
    count('HugePages_Free', 0),
    count('HugePages_Rsvd', 0),
    count('HugePages_Surp', 0),
    kbRaw('Hugepagesize', HUGEPAGESIZE_KB),
    kb('Hugetlb', total.hugetlb),
    ...directMap(totalram * KB),
  ]
}

/**
 * The text: `%-16s%8lu kB` as show_val_kb() and the seq_printf()s beside it print it (a label
 * of 16 columns, the value right-aligned in 8), with the kernel's two exceptions
 * (HardwareCorrupted in 5 columns) and the huge page counts (`%5lu`, label in 19 columns).
 */
export function formatMeminfo(fields: readonly MeminfoField[]): string {
  let s = ''
  for (const f of fields) {
    if (f.unit === null) s += `${`${f.name}:`.padEnd(19)}${String(f.value).padStart(5)}\n`
    else if (f.name === 'HardwareCorrupted') s += `${f.name}: ${String(f.value).padStart(5)} kB\n`
    else s += `${`${f.name}:`.padEnd(16)}${String(f.value).padStart(8)} kB\n`
  }
  return s
}

/** nodeN/meminfo's fields in node_read_meminfo()'s order. */
export function nodeMeminfo(node: NumaNode, p: NodePages): MeminfoField[] {
  const lruKb = Object.entries(lruFields(p)).map(([name, pages]) => kb(name, pages))
  return [
    kb('MemTotal', node.pages),
    kb('MemFree', p.free),
    kb('MemUsed', node.pages - p.free),
    kb('SwapCached', 0),
    ...lruKb,
    ...zeros('Dirty', 'Writeback'),
    kb('FilePages', p.file + p.shmem),
    kb('Mapped', p.file + p.shmem),
    kb('AnonPages', p.anon),
    kb('Shmem', p.shmem),
    ...zeros(...KERNEL),
    ...zeros(...SLAB),
    ...zeros(...THP, 'Unaccepted'),
    count('HugePages_Total', 0),
    count('HugePages_Free', 0),
    count('HugePages_Surp', 0),
  ]
}

/**
 * `Node %d <label>%8lu kB`: the label in 16 columns as in /proc/meminfo; the huge page counts
 * are `%5u` after a label of 17 (hugetlb_report_node_meminfo()).
 */
export function formatNodeMeminfo(nid: number, fields: readonly MeminfoField[]): string {
  let s = ''
  for (const f of fields) {
    if (f.unit === null)
      s += `Node ${nid} ${`${f.name}:`.padEnd(17)}${String(f.value).padStart(5)}\n`
    else s += `Node ${nid} ${`${f.name}:`.padEnd(16)}${String(f.value).padStart(8)} kB\n`
  }
  return s
}

/** node_read_numastat(): the NUMA allocation events under their older names. */
export function numastat(k: Kernel, nid: number): Record<string, number> {
  const v = k.vmstat
  return {
    numa_hit: v.node(nid, 'numa_hit'),
    numa_miss: v.node(nid, 'numa_miss'),
    numa_foreign: v.node(nid, 'numa_foreign'),
    interleave_hit: v.node(nid, 'numa_interleave'),
    local_node: v.node(nid, 'numa_local'),
    other_node: v.node(nid, 'numa_other'),
  }
}

/**
 * The counters of a node as vmstat_text[] groups them: the zone stat items (of the node's one
 * populated zone), the NUMA events, and the node stat items of 6.16, in order.
 */
function nodeStats(k: Kernel, nid: number, p: NodePages) {
  const v = k.vmstat
  const l = lru(p)
  const zero = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 0]))
  const zone: Record<string, number> = {
    nr_free_pages: p.free,
    nr_free_pages_blocks: 0,
    nr_zone_inactive_anon: 0,
    nr_zone_active_anon: l.activeAnon,
    nr_zone_inactive_file: 0,
    nr_zone_active_file: l.activeFile,
    nr_zone_unevictable: l.unevictable,
    nr_zone_write_pending: 0,
    nr_mlock: p.mlocked,
    nr_zspages: 0,
    nr_free_cma: 0,
    nr_unaccepted: 0,
  }
  const numa: Record<string, number> = {
    numa_hit: v.node(nid, 'numa_hit'),
    numa_miss: v.node(nid, 'numa_miss'),
    numa_foreign: v.node(nid, 'numa_foreign'),
    numa_interleave: v.node(nid, 'numa_interleave'),
    numa_local: v.node(nid, 'numa_local'),
    numa_other: v.node(nid, 'numa_other'),
  }
  const node: Record<string, number> = {
    nr_inactive_anon: 0,
    nr_active_anon: l.activeAnon,
    nr_inactive_file: 0,
    nr_active_file: l.activeFile,
    nr_unevictable: l.unevictable,
    ...zero(
      'nr_slab_reclaimable',
      'nr_slab_unreclaimable',
      'nr_isolated_anon',
      'nr_isolated_file',
      'workingset_nodes',
      'workingset_refault_anon',
      'workingset_refault_file',
      'workingset_activate_anon',
      'workingset_activate_file',
      'workingset_restore_anon',
      'workingset_restore_file',
      'workingset_nodereclaim',
    ),
    nr_anon_pages: p.anon,
    nr_mapped: p.file + p.shmem,
    nr_file_pages: p.file + p.shmem,
    nr_dirty: 0,
    nr_writeback: 0,
    nr_writeback_temp: 0,
    nr_shmem: p.shmem,
    ...zero(
      'nr_shmem_hugepages',
      'nr_shmem_pmdmapped',
      'nr_file_hugepages',
      'nr_file_pmdmapped',
      'nr_anon_transparent_hugepages',
      'nr_vmscan_write',
      'nr_vmscan_immediate_reclaim',
      'nr_dirtied',
      'nr_written',
      'nr_throttled_written',
      'nr_kernel_misc_reclaimable',
      'nr_foll_pin_acquired',
      'nr_foll_pin_released',
      'nr_kernel_stack',
      'nr_page_table_pages',
      'nr_sec_page_table_pages',
      'nr_iommu_pages',
      'nr_swapcached',
    ),
    pgpromote_success: v.node(nid, 'pgpromote_success'),
    pgpromote_candidate: v.node(nid, 'pgpromote_candidate'),
    pgdemote_kswapd: v.node(nid, 'pgdemote_kswapd'),
    pgdemote_direct: 0,
    pgdemote_khugepaged: 0,
    pgdemote_proactive: 0,
    nr_hugetlb: p.hugetlb,
    nr_balloon_pages: 0,
  }
  return { zone, numa, node }
}

/** node_read_vmstat(): the zone items, the NUMA events, then the node items. */
export function nodeVmstat(k: Kernel, nid: number, p: NodePages): Record<string, number> {
  const { zone, numa, node } = nodeStats(k, nid, p)
  return { ...zone, ...numa, ...node }
}

/** The zones of an x86-64 kernel (MAX_NR_ZONES = 5); a simulated node has Normal only. */
const ZONES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'] as const

interface Zone {
  readonly node: number
  readonly zone: (typeof ZONES)[number]
  readonly free: number
  readonly boost: number
  readonly min: number
  readonly low: number
  readonly high: number
  readonly promo: number
  readonly spanned: number
  readonly present: number
  readonly managed: number
  readonly cma: number
  readonly protection: readonly number[]
  /** The populated zone: the node's stats and its own, and the trailer lines. */
  readonly populated: {
    readonly per_node_stats: Record<string, number>
    readonly zone_stats: Record<string, number>
    readonly node_unreclaimable: number
    readonly start_pfn: number
    readonly reserved_highatomic: number
    readonly free_highatomic: number
  } | null
}

/** /proc/zoneinfo's zones, node by node, the nodes laid end to end from PFN 0. */
export function zoneinfo(k: Kernel): Zone[] {
  const pages = nodePages(k)
  let startPfn = 0
  return k.machine.nodes.flatMap((n) => {
    const { zone, numa, node } = nodeStats(k, n.id, pages[n.id])
    const zones = ZONES.map((name): Zone => {
      const normal = name === 'Normal'
      return {
        node: n.id,
        zone: name,
        free: normal ? n.free : 0,
        boost: 0,
        min: normal ? n.wmarkMin : 0,
        low: normal ? n.wmarkLow : 0,
        high: normal ? n.wmarkHigh : 0,
        promo: normal ? n.wmarkPromo : 0,
        spanned: normal ? n.pages : 0,
        present: normal ? n.pages : 0,
        managed: normal ? n.pages : 0,
        cma: 0,
        protection: ZONES.map(() => 0),
        populated: normal
          ? {
              per_node_stats: node,
              zone_stats: { ...zone, ...numa },
              node_unreclaimable: 0,
              start_pfn: startPfn,
              reserved_highatomic: 0,
              free_highatomic: 0,
            }
          : null,
      }
    })
    startPfn += n.pages
    return zones
  })
}

/**
 * zoneinfo_show_print(): `Node %d, zone %8s`; in the node's first populated zone the
 * per-node stats; the watermarks; the protection; for a populated zone its stat items and
 * NUMA events as `%-12s %lu`, then the trailer. The per-CPU pagesets are left out: the
 * simulation has no CPUs.
 */
export function formatZoneinfo(zones: readonly Zone[]): string {
  const items = (stats: Record<string, number>) =>
    Object.entries(stats)
      .map(([name, v]) => `\n      ${name.padEnd(12)} ${v}`)
      .join('')
  return zones
    .map((z) => {
      let s = `Node ${z.node}, zone ${z.zone.padStart(8)}`
      if (z.populated) s += `\n  per-node stats${items(z.populated.per_node_stats)}`
      s +=
        `\n  pages free     ${z.free}` +
        `\n        boost    ${z.boost}` +
        `\n        min      ${z.min}` +
        `\n        low      ${z.low}` +
        `\n        high     ${z.high}` +
        `\n        promo    ${z.promo}` +
        `\n        spanned  ${z.spanned}` +
        `\n        present  ${z.present}` +
        `\n        managed  ${z.managed}` +
        `\n        cma      ${z.cma}` +
        `\n        protection: (${z.protection.join(', ')})`
      if (!z.populated) return `${s}\n`
      const p = z.populated
      return (
        s +
        items(p.zone_stats) +
        `\n  node_unreclaimable:  ${p.node_unreclaimable}` +
        `\n  start_pfn:           ${p.start_pfn}` +
        `\n  reserved_highatomic: ${p.reserved_highatomic}` +
        `\n  free_highatomic:     ${p.free_highatomic}\n`
      )
    })
    .join('')
}

const Counts = z.record(z.string(), z.number().int())

/** /proc/zoneinfo. */
export function procZoneinfo(k: Kernel): SysfsFile {
  return readOnly(
    '/proc/zoneinfo',
    'Per node, its five zones as zoneinfo_show_print() prints them: Normal holds the node ' +
      '(free pages, the min/low/high/promo watermarks, the per-node stats, its zone stats and ' +
      'NUMA events); DMA, DMA32, Movable and Device are empty. kswapd balances a top-tier ' +
      'node to promo, and a promotion needs the target above high. The per-CPU pagesets are ' +
      'left out (the simulation has no CPUs).',
    z.array(
      z.object({
        node: z.number().int(),
        zone: z.enum(ZONES),
        free: z.number().int(),
        boost: z.number().int(),
        min: z.number().int(),
        low: z.number().int(),
        high: z.number().int(),
        promo: z.number().int(),
        spanned: z.number().int(),
        present: z.number().int(),
        managed: z.number().int(),
        cma: z.number().int(),
        protection: z.array(z.number().int()),
        populated: z
          .object({
            per_node_stats: Counts,
            zone_stats: Counts,
            node_unreclaimable: z.number().int(),
            start_pfn: z.number().int(),
            reserved_highatomic: z.number().int(),
            free_highatomic: z.number().int(),
          })
          .nullable(),
      }),
    ),
    () => formatZoneinfo(zoneinfo(k)),
    () => zoneinfo(k),
  )
}

/** The zones of TEXTS_FOR_ZONES() on x86-64: DMA, DMA32, Normal, Movable, Device. */
const zoneNames = (prefix: string) =>
  ['dma', 'dma32', 'normal', 'movable', 'device'].map((z) => `${prefix}_${z}`)

/**
 * enum vm_event_item of 6.16 for the config of docs/spec/kernel-interfaces.md §7, in
 * vmstat_text[]'s order, with kscand's ten after the NUMA-balancing events (patch 13).
 */
const VM_EVENT_NAMES: readonly string[] = [
  'pgpgin',
  'pgpgout',
  'pswpin',
  'pswpout',
  ...zoneNames('pgalloc'),
  ...zoneNames('allocstall'),
  ...zoneNames('pgskip'),
  'pgfree',
  'pgactivate',
  'pgdeactivate',
  'pglazyfree',
  'pgfault',
  'pgmajfault',
  'pglazyfreed',
  'pgrefill',
  'pgreuse',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgsteal_khugepaged',
  'pgsteal_proactive',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgscan_khugepaged',
  'pgscan_proactive',
  'pgscan_direct_throttle',
  'pgscan_anon',
  'pgscan_file',
  'pgsteal_anon',
  'pgsteal_file',
  'zone_reclaim_success',
  'zone_reclaim_failed',
  'pginodesteal',
  'slabs_scanned',
  'kswapd_inodesteal',
  'kswapd_low_wmark_hit_quickly',
  'kswapd_high_wmark_hit_quickly',
  'pageoutrun',
  'pgrotated',
  'drop_pagecache',
  'drop_slab',
  'oom_kill',
  'numa_pte_updates',
  'numa_huge_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  ...VMSTAT_NAMES.filter((n) => n.startsWith('nr_kscand_')),
  'pgmigrate_success',
  'pgmigrate_fail',
  'thp_migration_success',
  'thp_migration_fail',
  'thp_migration_split',
  'compact_migrate_scanned',
  'compact_free_scanned',
  'compact_isolated',
  'compact_stall',
  'compact_fail',
  'compact_success',
  'compact_daemon_wake',
  'compact_daemon_migrate_scanned',
  'compact_daemon_free_scanned',
  'htlb_buddy_alloc_success',
  'htlb_buddy_alloc_fail',
  'cma_alloc_success',
  'cma_alloc_fail',
  'unevictable_pgs_culled',
  'unevictable_pgs_scanned',
  'unevictable_pgs_rescued',
  'unevictable_pgs_mlocked',
  'unevictable_pgs_munlocked',
  'unevictable_pgs_cleared',
  'unevictable_pgs_stranded',
  'thp_fault_alloc',
  'thp_fault_fallback',
  'thp_fault_fallback_charge',
  'thp_collapse_alloc',
  'thp_collapse_alloc_failed',
  'thp_file_alloc',
  'thp_file_fallback',
  'thp_file_fallback_charge',
  'thp_file_mapped',
  'thp_split_page',
  'thp_split_page_failed',
  'thp_deferred_split_page',
  'thp_underused_split_page',
  'thp_split_pmd',
  'thp_scan_exceed_none_pte',
  'thp_scan_exceed_swap_pte',
  'thp_scan_exceed_share_pte',
  'thp_split_pud',
  'thp_zero_page_alloc',
  'thp_zero_page_alloc_failed',
  'thp_swpout',
  'thp_swpout_fallback',
  'balloon_inflate',
  'balloon_deflate',
  'balloon_migrate',
  'swap_ra',
  'swap_ra_hit',
  'swpin_zero',
  'swpout_zero',
  'ksm_swpin_copy',
  'cow_ksm',
  'zswpin',
  'zswpout',
  'zswpwb',
  'direct_map_level2_splits',
  'direct_map_level3_splits',
  'direct_map_level2_collapses',
  'direct_map_level3_collapses',
]

/** vm_dirty_ratio and dirty_background_ratio's defaults, in percent. */
const DIRTY_RATIO = 20
const DIRTY_BACKGROUND_RATIO = 10
/** sizeof(struct page) on x86-64. */
const STRUCT_PAGE_BYTES = 64

/**
 * /proc/vmstat (vmstat_start()): the zone items, NUMA events and node items summed over the
 * nodes, the vm_stat items, then the vm events. The events the simulation counts come from
 * Vmstat; pgalloc_normal is every page allocation and pgsteal_kswapd what kswapd freed (its
 * demotions); the rest read 0.
 */
export function procVmstat(k: Kernel): Record<string, number> {
  const pages = nodePages(k)
  const nodes = k.machine.nodes
  const out: Record<string, number> = {}
  const add = (stats: Record<string, number>) => {
    for (const [name, v] of Object.entries(stats)) out[name] = (out[name] ?? 0) + v
  }
  const groups = nodes.map((n) => nodeStats(k, n.id, pages[n.id]))
  for (const g of groups) add(g.zone)
  for (const g of groups) add(g.numa)
  for (const g of groups) add(g.node)
  // global_dirtyable_memory(): free above the reserves plus the file LRU.
  const dirtyable = Math.max(0, out.nr_free_pages - totalreservePages(nodes) + out.nr_active_file)
  const totalram = nodes.reduce((s, n) => s + n.pages, 0)
  out.nr_dirty_threshold = Math.floor((dirtyable * DIRTY_RATIO) / 100)
  out.nr_dirty_background_threshold = Math.floor((dirtyable * DIRTY_BACKGROUND_RATIO) / 100)
  out.nr_memmap_pages = 0
  out.nr_memmap_boot_pages = Math.ceil((totalram * STRUCT_PAGE_BYTES) / PAGE_SIZE)
  const counted: Record<string, number> = k.vmstat.snapshot()
  for (const name of VM_EVENT_NAMES) out[name] = counted[name] ?? 0
  out.pgalloc_normal = out.numa_hit + out.numa_miss
  out.pgsteal_kswapd = out.pgdemote_kswapd
  return out
}

/** /proc/vmstat. */
export function procVmstatFile(k: Kernel): SysfsFile {
  return readOnly(
    '/proc/vmstat',
    'Every counter of 6.16, one `name value` line each, in the kernel’s order: the zone and ' +
      'node items and NUMA events summed over the nodes (nodeN/vmstat has each node’s), the ' +
      'dirty thresholds, then the events — kscand’s ten nr_kscand_* after the NUMA-balancing ' +
      'events, as patch 13 places them. What the simulation does not model reads 0.',
    Counts,
    () => formatNameValue(procVmstat(k)),
    () => procVmstat(k),
  )
}

/** `name value` lines, as sysfs_emit_at(buf, len, "%s %lu\n", …) prints them. */
export function formatNameValue(stats: Record<string, number>): string {
  let s = ''
  for (const [name, value] of Object.entries(stats)) s += `${name} ${value}\n`
  return s
}

/** /proc/meminfo. */
export function procMeminfo(k: Kernel): SysfsFile {
  return readOnly(
    '/proc/meminfo',
    'Memory of the whole machine in kB, the fields of meminfo_proc_show() in its order and ' +
      'format. Free, page cache, anonymous, shmem, mlocked, hugetlb pages and the commit ' +
      'figures come from the simulated machine; what it does not model (swap, slab, kernel ' +
      'stacks, page tables, THP, CMA, huge page pools, vmalloc) reads 0.',
    Fields,
    () => formatMeminfo(meminfo(k)),
    () => meminfo(k),
  )
}

/** nodeN/meminfo, numastat and vmstat of one node. */
export function nodeMemoryFiles(k: Kernel, node: NumaNode, dir: string): SysfsFile[] {
  const pagesOf = () => nodePages(k)[node.id]
  return [
    readOnly(
      `${dir}/meminfo`,
      `Memory of node ${node.id} (${node.label}) in kB, the fields of node_read_meminfo() ` +
        'as `Node N Field: value kB`; what the simulation does not model reads 0.',
      Fields,
      () => formatNodeMeminfo(node.id, nodeMeminfo(node, pagesOf())),
      () => nodeMeminfo(node, pagesOf()),
    ),
    readOnly(
      `${dir}/numastat`,
      `Page allocations on node ${node.id}: numa_hit, numa_miss, numa_foreign, ` +
        'interleave_hit, local_node, other_node (node_read_numastat()). Counted for the pages ' +
        'a process faults in at exec or fork and for every page migrated to the node.',
      Counts,
      () => formatNameValue(numastat(k, node.id)),
      () => numastat(k, node.id),
    ),
    readOnly(
      `${dir}/vmstat`,
      `Counters of node ${node.id} as node_read_vmstat() prints them, one \`name value\` a ` +
        'line: the zone items, the NUMA events, the node items, pgpromote_success, ' +
        'pgpromote_candidate and pgdemote_kswapd among them (their sums are /proc/vmstat’s).',
      Counts,
      () => formatNameValue(nodeVmstat(k, node.id, pagesOf())),
      () => nodeVmstat(k, node.id, pagesOf()),
    ),
  ]
}
