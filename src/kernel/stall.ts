/**
 * Why an mm's slow-tier pages are not being promoted, from the state of kmigrated and kscand
 * alone (docs/simulation.md, "When promotions stall"). Pure and cheap: a look-up of the mm's
 * migration slot and a sum over the nodes, computed when asked.
 */
import type { Kmigrated } from './kmigrated.ts'
import type { Kscand } from './kscand.ts'
import type { Machine } from './machine.ts'
import type { MmStruct } from './mm.ts'
import type { Quirks } from './spec.ts'

/** The causes, in the order they are tried: the first that holds is named. */
export const STALL_CAUSES = [
  'kmigrated_stopped',
  'sticky_slot',
  'target_node_full',
  'kscand_stopped',
  'scan_disabled',
  'scan_scale_zero',
  'migrate_info_full',
] as const

export type StallCause = (typeof STALL_CAUSES)[number]

export interface PromotionStall {
  readonly cause: StallCause
  /** Entries on the mm's migration list. */
  readonly pending: number
  /** sticky_slot: the pid of the mm kmigrated drains instead. */
  readonly servicing: number | null
  /** target_node_full: the node its promotions go to. */
  readonly node: number | null
  /** The failure ratio of its kmigrated slot (0 without one), which stretches its scan_period. */
  readonly fratio: number
}

/** What the diagnosis reads of the kernel. */
export interface StallContext {
  readonly kmigrated: Kmigrated
  readonly kscand: Kscand
  readonly machine: Machine
  readonly quirks: Quirks
  readonly maxMigrateInfo: number
}

/**
 * The cause, or null while the mm's pages are promoted (or wait their turn) or it has none
 * on the slow tier. In order:
 * - kmigrated_stopped: pages are pending and kmigrated does not run;
 * - sticky_slot: pages are pending and, with quirk 4, kmigrated drains another mm (the first
 *   that got a migration list) until that one exits;
 * - target_node_full: kmigrated has had pages of this mm, some are still on the slow tier,
 *   and its target node is not migrate_balanced(): promotions fail with rc 11 until kswapd
 *   frees it;
 * then, with nothing pending and pages on the slow tier, why nothing is queued:
 * - kscand_stopped: the kscand thread does not run;
 * - scan_disabled: scan_enabled is 0, kscand waits (docs/spec/kscand-v3.md §7.3);
 * - scan_scale_zero: the mm's pte_scan_scale is 0, kscand skips it (docs/spec/kscand-v3.md §6);
 * - migrate_info_full: every kscand_migrate_info entry is taken, so kscand can queue none.
 */
export function promotionStall(k: StallContext, mm: MmStruct): PromotionStall | null {
  const km = k.kmigrated
  const slot = km.lookup(mm)
  const pending = slot?.migrate_head.length ?? 0
  const none = { pending, servicing: null, node: null, fratio: slot?.fratio ?? 0 }
  if (pending > 0 && !km.thread.gen) return { ...none, cause: 'kmigrated_stopped' }
  const serviced = km.cur ?? km.slots[0]
  if (pending > 0 && k.quirks.kmigrated_sticky_slot && serviced !== slot) {
    return { ...none, cause: 'sticky_slot', servicing: serviced.mm.owner }
  }
  let slowTier = 0
  for (let n = 0; n < mm.pagesOnNode.length; n++)
    if (!k.machine.toptier[n]) slowTier += mm.pagesOnNode[n]
  if (slowTier === 0) return null
  if (slot && !k.machine.migrateBalanced(mm.target_node, 1)) {
    return { ...none, cause: 'target_node_full', node: mm.target_node }
  }
  // Pending pages are being drained.
  if (pending > 0) return null
  if (!k.kscand.thread.gen) return { ...none, cause: 'kscand_stopped' }
  if (!k.kscand.scan_enabled) return { ...none, cause: 'scan_disabled' }
  if (mm.pte_scan_scale === 0) return { ...none, cause: 'scan_scale_zero' }
  if (km.queued >= k.maxMigrateInfo) return { ...none, cause: 'migrate_info_full' }
  return null
}
