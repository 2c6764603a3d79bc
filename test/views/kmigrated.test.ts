/** kmigrated's side of promotion as GET /threads/kmigrated shows it (src/views/kmigrated.ts). */
import { describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { kmigratedDaemon, kmigratedDaemonText } from '../../src/views/kmigrated.ts'
import { boot } from '../helpers/kernel.ts'

const STICKY = '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot'

describe('kmigratedDaemon', () => {
  it('before any migration list: no slot, nothing stalled', () => {
    const k = boot()
    const d = kmigratedDaemon(k)
    expect(d).toEqual({
      mm_slot: null,
      mm_slot_comm: null,
      mm_slots: 0,
      kmigrated_sticky_slot: true,
      queued: 0,
      max_migrate_info: 1 << 20,
      promotion_stalled: [],
    })
    expect(kmigratedDaemonText(d)).toBe(
      'mm_slot -\nmm_slots 0\nkmigrated_sticky_slot 1\nqueued 0/1048576\npromotion_stalled -\n',
    )
  })

  it('behind the sticky slot: every waiting mm, in pid order, and the switch once', () => {
    const k = boot()
    for (const comm of ['a', 'b', 'c']) {
      k.exec({
        comm,
        size: 8 * MiB,
        policy: { mode: 'bind', nodes: [2] },
        workload: { pattern: 'uniform' },
        access_rate: 1e5,
      })
    }
    k.run(5000)
    const d = kmigratedDaemon(k)
    const owner = d.mm_slot as number
    const waiting = [1000, 1001, 1002].filter((pid) => pid !== owner)
    expect(d.promotion_stalled.map((p) => [p.pid, p.cause, p.servicing])).toEqual(
      waiting.map((pid) => [pid, 'sticky_slot', owner]),
    )
    expect(d.queued).toBe(d.promotion_stalled.reduce((s, p) => s + p.pending, 0))
    const lines = kmigratedDaemonText(d).split('\n')
    expect(lines[0]).toBe(`mm_slot ${owner} (${k.process(owner).comm})`)
    expect(lines.filter((l) => l.startsWith('promotion_stalled '))).toEqual(
      d.promotion_stalled.map(
        (p) => `promotion_stalled ${p.pid} (${p.comm}) sticky_slot: ${p.pending} pages wait`,
      ),
    )
    expect(lines.filter((l) => l.startsWith('stall_remedy '))).toEqual([
      `stall_remedy write 0 to ${STICKY} (kmigrated goes round-robin)`,
    ])
  })
})
