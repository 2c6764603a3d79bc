/**
 * The global counters the simulation maintains, in the order /proc/vmstat prints them: node
 * stats first, then NUMA-balancing events, the ten kscand events of
 * docs/spec/kscand-v3.md §4.1 (placed right after numa_pages_migrated by patch 13), then the
 * migration events.
 * /proc/vmstat (src/sysfs/meminfo.ts) prints them among every other counter of the kernel.
 */
export const VMSTAT_NAMES = [
  'pgpromote_success',
  'pgpromote_candidate',
  'pgdemote_kswapd',
  'pgscan_kswapd',
  'numa_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'nr_kscand_mm_scans',
  'nr_kscand_vma_scans',
  'nr_kscand_migadded',
  'nr_kscand_migrated',
  'nr_kscand_migrate_failed',
  'nr_kscand_slowtier',
  'nr_kscand_toptier',
  'nr_kscand_idlepage',
  'nr_kscand_hotpage',
  'nr_kscand_coldpage',
  'pgmigrate_success',
  'pgmigrate_fail',
] as const

export type VmstatName = (typeof VMSTAT_NAMES)[number]

export const VM = Object.fromEntries(VMSTAT_NAMES.map((n, i) => [n, i])) as {
  readonly [K in VmstatName]: number
}

/**
 * What the simulation counts per node (docs/spec/kernel-interfaces.md §7.3): the NUMA
 * allocation events (enum numa_stat_item, in vmstat_text's names) and the node stat items
 * that are event counts. /proc/vmstat prints the sum over the nodes of those it lists.
 */
export const NODE_COUNTER_NAMES = [
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_interleave',
  'numa_local',
  'numa_other',
  'pgpromote_success',
  'pgpromote_candidate',
  'pgdemote_kswapd',
] as const

export type NodeCounterName = (typeof NODE_COUNTER_NAMES)[number]

const NODE_INDEX = Object.fromEntries(NODE_COUNTER_NAMES.map((n, i) => [n, i])) as {
  readonly [K in NodeCounterName]: number
}
const GLOBAL_INDEX: readonly number[] = NODE_COUNTER_NAMES.map((n) =>
  (VMSTAT_NAMES as readonly string[]).indexOf(n),
)

export class Vmstat {
  readonly v = new Float64Array(VMSTAT_NAMES.length)
  /** Per node, NODE_COUNTER_NAMES' counters. */
  private readonly perNode: Float64Array[]

  constructor(nrNodes: number) {
    this.perNode = Array.from(
      { length: nrNodes },
      () => new Float64Array(NODE_COUNTER_NAMES.length),
    )
  }

  /** Counts on node `nid` (mod_node_page_state(), __count_numa_event()) and in the total. */
  countNode(nid: number, name: NodeCounterName, n = 1): void {
    const i = NODE_INDEX[name]
    this.perNode[nid][i] += n
    const g = GLOBAL_INDEX[i]
    if (g >= 0) this.v[g] += n
  }

  /**
   * zone_statistics() of `n` pages allocated on node `nid` for an allocation that preferred
   * `preferred`, by a task on `cpuNode`; `interleave` when a MPOL_INTERLEAVE allocation got
   * the node it asked for (NUMA_INTERLEAVE_HIT).
   */
  countAlloc(nid: number, preferred: number, cpuNode: number, n = 1, interleave = false): void {
    if (nid === preferred) {
      this.countNode(nid, 'numa_hit', n)
    } else {
      this.countNode(nid, 'numa_miss', n)
      this.countNode(preferred, 'numa_foreign', n)
    }
    this.countNode(nid, nid === cpuNode ? 'numa_local' : 'numa_other', n)
    if (interleave) this.countNode(nid, 'numa_interleave', n)
  }

  /** A per-node counter of node `nid`. */
  node(nid: number, name: NodeCounterName): number {
    return this.perNode[nid][NODE_INDEX[name]]
  }

  get(name: VmstatName): number {
    return this.v[VM[name]]
  }

  snapshot(): Record<VmstatName, number> {
    return Object.fromEntries(VMSTAT_NAMES.map((n, i) => [n, this.v[i]])) as Record<
      VmstatName,
      number
    >
  }
}
