/**
 * kmigrated as GET /threads/kmigrated shows it beside its thread state: the mm it drains, and
 * every process whose pages it does not promote, with the cause and the switch
 * (docs/simulation.md, "When promotions stall").
 */
import type { Kernel } from '../kernel/kernel.ts'
import type { KmigratedDaemon } from '../schemas/threads.ts'
import { stallView } from './process.ts'

export function kmigratedDaemon(kernel: Kernel): KmigratedDaemon {
  const km = kernel.kmigrated
  const serviced = km.cur ?? km.slots[0] ?? null
  const owner = serviced ? kernel.process(serviced.mm.owner) : null
  const promotion_stalled: KmigratedDaemon['promotion_stalled'] = []
  for (const p of kernel.processList()) {
    const stall = stallView(kernel, p.pid, kernel.promotionStall(p.mm))
    if (stall) promotion_stalled.push({ pid: p.pid, comm: p.comm, ...stall })
  }
  return {
    mm_slot: owner?.pid ?? null,
    mm_slot_comm: owner?.comm ?? null,
    mm_slots: km.slots.length,
    kmigrated_sticky_slot: kernel.quirks.kmigrated_sticky_slot,
    queued: km.queued,
    max_migrate_info: kernel.maxMigrateInfo,
    promotion_stalled,
  }
}

/**
 * Its text lines, after the thread's: one `promotion_stalled PID (COMM) CAUSE: N pages wait`
 * per process (`promotion_stalled -` if none), then each distinct remedy once.
 */
export function kmigratedDaemonText(d: KmigratedDaemon): string {
  let s = `mm_slot ${d.mm_slot === null ? '-' : `${d.mm_slot} (${d.mm_slot_comm})`}\n`
  s += `mm_slots ${d.mm_slots}\n`
  s += `kmigrated_sticky_slot ${d.kmigrated_sticky_slot ? 1 : 0}\n`
  s += `queued ${d.queued}/${d.max_migrate_info}\n`
  if (d.promotion_stalled.length === 0) s += 'promotion_stalled -\n'
  for (const p of d.promotion_stalled) {
    s += `promotion_stalled ${p.pid} (${p.comm}) ${p.cause}: ${p.pending} pages wait\n`
  }
  for (const remedy of new Set(d.promotion_stalled.map((p) => p.remedy))) {
    if (remedy) s += `stall_remedy ${remedy}\n`
  }
  return s
}
