/**
 * Constants of the kscand RFC V3 series and the upstream kernel values it relies on.
 * Each group names the section of docs/spec/kscand-v3.md (or docs/spec/kernel-interfaces.md)
 * that states its values.
 */

export const PAGE_SHIFT = 12
export const PAGE_SIZE = 1 << PAGE_SHIFT
export const MiB = 1024 * 1024
export const GiB = 1024 * MiB

// docs/spec/kscand-v3.md §2 — kscand
export const KSCAND_SCAN_SLEEP_MS = 20 // kscand_scan_sleep_ms (a plain variable in V3)
export const KSCAND_MMS_TO_SCAN = 4 * 1024
export const KSCAND_SCAN_SIZE = 1 * GiB
export const KSCAND_SCAN_SIZE_MIN = 256 * MiB
export const KSCAND_SCAN_SIZE_MAX = 4 * GiB
export const KSCAND_SCAN_PERIOD = 2000
export const KSCAND_SCAN_PERIOD_MIN = 600
export const KSCAND_SCAN_PERIOD_MAX = 5000
export const SCAN_PERIOD_TUNE_PERCENT = 15
export const SCAN_PERIOD_CHANGE_SCALE = 3
export const KSCAND_IGNORE_SCAN_THR = 256
export const SCAN_DECAY_SHIFT = 4
export const SCAN_SIZE_CHANGE_SHIFT = 1
export const KSCAND_DEFAULT_TARGET_NODE = 0
/**
 * Upstream sysctl_numa_balancing_scan_delay default; V3 waits twice this
 * (docs/spec/kscand-v3.md §7.12).
 */
export const NUMA_BALANCING_SCAN_DELAY_MS = 1000

// docs/spec/kscand-v3.md §2 — kmigrated (seed patch 05/17)
export const KMIGRATE_SLEEP_MS = 20
/** The unconditional msleep(20) of the kmigrated loop. */
export const KMIGRATED_FIXED_SLEEP_MS = 20
export const MSTAT_UPDATE_FREQ = 1024

// Limits of this simulator (not of Linux): the most processes, and VMAs per process, a
// machine takes by default and at most; the state file records and restores up to these.
export const MAX_PROCESSES = 4096
export const MAX_VMAS = 4096

// docs/spec/kscand-v3.md §6 — prctl
export const PR_SET_PTE_A_SCAN_SCALE = 79
export const PR_GET_PTE_A_SCAN_SCALE = 80
export const PR_PTE_A_SCAN_SCALE_MIN = 0
export const PR_PTE_A_SCAN_SCALE_MAX = 10
export const PR_PTE_A_SCAN_SCALE_DEFAULT = 8

// docs/spec/kscand-v3.md §7.10 — kmigrated_promote_folio() return codes
export const KSCAND_NULL_MM = 1
export const KSCAND_EXITING_MM = 2
export const KSCAND_INVALID_FOLIO = 3
export const KSCAND_NONLRU_FOLIO = 4
export const KSCAND_INELIGIBLE_SRC_NODE = 5
export const KSCAND_SAME_SRC_DEST_NODE = 6
export const KSCAND_PTE_NOT_PRESENT = 7
export const KSCAND_PMD_NOT_PRESENT = 8
export const KSCAND_NO_PTE_OFFSET_MAP_LOCK = 9
export const KSCAND_NOT_HOT_PAGE = 10
export const KSCAND_LRU_ISOLATION_ERR = 11

// include/linux/memory-tiers.h (upstream context, docs/spec/kernel-interfaces.md §4.5)
export const MEMTIER_CHUNK_BITS = 7
export const MEMTIER_CHUNK_SIZE = 1 << MEMTIER_CHUNK_BITS
export const MEMTIER_ADISTANCE_DRAM = 4 * MEMTIER_CHUNK_SIZE + (MEMTIER_CHUNK_SIZE >> 1)
/** MEMTIER_DEFAULT_DAX_ADISTANCE: where dax/kmem (CXL) memory lands without HMAT data. */
export const MEMTIER_DEFAULT_DAX_ADISTANCE = MEMTIER_ADISTANCE_DRAM * 5

/** mm/page_alloc.c default watermark_scale_factor (in 1/10000 of managed pages). */
export const WATERMARK_SCALE_FACTOR = 10
/** mm/vmscan.c SWAP_CLUSTER_MAX: pages reclaimed per batch. */
export const SWAP_CLUSTER_MAX = 32
