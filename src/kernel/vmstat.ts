/**
 * /proc/vmstat counters the simulation maintains, in the order the kernel prints them:
 * node stats first, then NUMA-balancing events, the ten kscand events of
 * docs/spec/kscand-v3.md §4.1 (placed right after numa_pages_migrated by patch 13), then the
 * migration events.
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

export class Vmstat {
  readonly v = new Float64Array(VMSTAT_NAMES.length)

  get(name: VmstatName): number {
    return this.v[VM[name]]
  }

  snapshot(): Record<VmstatName, number> {
    return Object.fromEntries(VMSTAT_NAMES.map((n, i) => [n, this.v[i]])) as Record<
      VmstatName,
      number
    >
  }

  /** The /proc/vmstat text: one `name value` line per counter. */
  format(): string {
    let s = ''
    for (let i = 0; i < VMSTAT_NAMES.length; i++) s += `${VMSTAT_NAMES[i]} ${this.v[i]}\n`
    return s
  }
}
