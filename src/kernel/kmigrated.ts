/**
 * kmigrated (seed patch 05 and patches 06, 11 of kscand RFC V3;
 * docs/spec/kscand-v3.md §7.8–§7.10): its own kthread that drains the per-mm migration lists
 * kscand fills, promoting one folio at a time to the mm's target node, and keeps a decaying
 * failure ratio per mm.
 */
import * as c from './constants.ts'
import { KMIGRATE_SLEEP_MS, KMIGRATED_FIXED_SLEEP_MS, MSTAT_UPDATE_FREQ } from './constants.ts'
import type { KthreadContext } from './context.ts'
import type { MmStruct } from './mm.ts'
import * as mmConst from './mm.ts'
import { HOST_YIELD, type Kthread, RESCHED, type Wait, WaitQueue } from './sched.ts'
import { EV } from './trace.ts'
import { VM } from './vmstat.ts'

// Module-local copies of what promoteFolio() reads per folio, as in pte-walk.ts: under tsx
// an imported binding is read through a getter, which showed in a CPU profile of the demo
// (BENCHMARKS.md, headless runs).
const PG_IDLE = mmConst.PG_IDLE
const PG_INVALID = mmConst.PG_INVALID
const PG_LRU = mmConst.PG_LRU
const PG_REFERENCED = mmConst.PG_REFERENCED
const PG_YOUNG = mmConst.PG_YOUNG
const KSCAND_INELIGIBLE_SRC_NODE = c.KSCAND_INELIGIBLE_SRC_NODE
const KSCAND_INVALID_FOLIO = c.KSCAND_INVALID_FOLIO
const KSCAND_LRU_ISOLATION_ERR = c.KSCAND_LRU_ISOLATION_ERR
const KSCAND_NONLRU_FOLIO = c.KSCAND_NONLRU_FOLIO
const KSCAND_NOT_HOT_PAGE = c.KSCAND_NOT_HOT_PAGE
const KSCAND_SAME_SRC_DEST_NODE = c.KSCAND_SAME_SRC_DEST_NODE

/** Promotions between two points where the host may take its event loop back. */
const HOST_YIELD_EVERY = 64

/**
 * A FIFO of kscand_migrate_info entries: the page (index in its mm) and the node it was on
 * when queued, which stands for its PFN. 5 bytes per entry.
 */
export class MigrateList {
  private page = new Uint32Array(64)
  private nid = new Uint8Array(64)
  private head = 0
  private tail = 0

  get length(): number {
    return this.tail - this.head
  }

  /**
   * Room for `n` more entries at the tail: returns the arrays and the index to write at.
   * Writers fill them and then call commit(count).
   */
  reserve(n: number): { page: Uint32Array; nid: Uint8Array; at: number } {
    if (this.tail + n > this.page.length) this.grow(n)
    return { page: this.page, nid: this.nid, at: this.tail }
  }

  commit(count: number): void {
    this.tail += count
  }

  /** Moves every entry of `other` to the tail of this list (list_splice_tail_init). */
  splice(other: MigrateList): void {
    if (this.length === 0) {
      // Onto an empty list (kmigrated keeps up): take other's storage, in O(1) as the
      // kernel's pointer splice is, rather than copying up to a million entries.
      ;[this.page, other.page] = [other.page, this.page]
      ;[this.nid, other.nid] = [other.nid, this.nid]
      this.head = other.head
      this.tail = other.tail
      other.clear()
      return
    }
    const n = other.length
    if (this.tail + n > this.page.length) this.grow(n)
    this.page.set(other.page.subarray(other.head, other.tail), this.tail)
    this.nid.set(other.nid.subarray(other.head, other.tail), this.tail)
    this.tail += n
    other.clear()
  }

  shiftPage(): number {
    return this.page[this.head]
  }

  shiftNid(): number {
    return this.nid[this.head]
  }

  drop(): void {
    this.head++
    if (this.head === this.tail) this.clear()
  }

  clear(): void {
    this.head = 0
    this.tail = 0
  }

  /** Makes room for `extra` more entries: compacts, and doubles while over half full. */
  private grow(extra: number): void {
    const live = this.length
    let cap = this.page.length
    while ((live + extra) * 2 > cap) cap *= 2
    const page = new Uint32Array(cap)
    const nid = new Uint8Array(cap)
    page.set(this.page.subarray(this.head, this.tail))
    nid.set(this.nid.subarray(this.head, this.tail))
    this.page = page
    this.nid = nid
    this.head = 0
    this.tail = live
  }
}

/** struct kmigrated_mm_slot */
export class KmigratedMmSlot {
  readonly migrate_head = new MigrateList()
  /** P17: top-tier nodes seen by the last scan; computed but unused, as in V3. */
  migration_nmask: number[] = []
  msuccess = 0
  mfailed = 0
  fratio = 0

  constructor(readonly mm: MmStruct) {}
}

export class Kmigrated {
  readonly thread: Kthread
  readonly wait = new WaitQueue()
  /** kmigrated_daemon.mm_head, in creation order. */
  readonly slots: KmigratedMmSlot[] = []
  private readonly byMm = new Map<MmStruct, KmigratedMmSlot>()
  /** kmigrated_daemon.mm_slot */
  cur: KmigratedMmSlot | null = null
  kmigrated_cur_mm: MmStruct | null = null
  kmigrated_clean_list = false
  kmigrate_sleep_ms = KMIGRATE_SLEEP_MS
  sleep_expire = 0
  /** Entries on all lists: models the GFP_NOWAIT allocations of kscand_migrate_info. */
  queued = 0

  constructor(
    private readonly k: KthreadContext,
    pid: number,
  ) {
    this.thread = k.sched.kthread('kmigrated', pid, (t) => this.main(t))
  }

  /**
   * Extension: V3 has no sysfs file for kmigrate_sleep_ms. Stored like kscand's knobs: the
   * current wait ends and the next one uses the new value.
   */
  store_kmigrate_sleep_ms(msecs: number): void {
    this.kmigrate_sleep_ms = msecs
    this.sleep_expire = 0
    this.k.sched.wake_up(this.wait)
  }

  lookup(mm: MmStruct): KmigratedMmSlot | undefined {
    return this.byMm.get(mm)
  }

  /** kmigrated_get_mm_slot(mm, true) */
  getSlot(mm: MmStruct): KmigratedMmSlot {
    let slot = this.byMm.get(mm)
    if (!slot) {
      slot = new KmigratedMmSlot(mm)
      this.byMm.set(mm, slot)
      this.slots.push(slot)
    }
    return slot
  }

  /** Splices kscand's scan list onto the mm's migration list. */
  splice(mm: MmStruct, list: MigrateList): void {
    this.getSlot(mm).migrate_head.splice(list)
  }

  /**
   * kscand_cleanup_migration_list() at mm exit (docs/spec/kscand-v3.md §7.2): frees the list,
   * waits for kmigrated to leave the mm if it is working on it, and removes the slot.
   */
  cleanupMigrationList(mm: MmStruct): void {
    const slot = this.byMm.get(mm)
    if (!slot) return
    if (slot.migrate_head.length > 0 && this.kmigrated_cur_mm === mm)
      this.kmigrated_clean_list = true
    this.queued -= slot.migrate_head.length
    slot.migrate_head.clear()
    // The kernel spins until kmigrated has left this mm; here kmigrated, parked at its
    // cond_resched(), runs on at once: it sees kmigrated_clean_list and leaves.
    if (this.kmigrated_cur_mm === mm) this.k.sched.preempt(this.thread)
    if (this.cur === slot) this.cur = null
    this.byMm.delete(mm)
    this.slots.splice(this.slots.indexOf(slot), 1)
    this.kmigrated_clean_list = false
  }

  private *main(t: Kthread): Generator<Wait, void, void> {
    for (;;) {
      if (t.should_stop()) return
      if (this.slots.length > 0) yield* this.migrateFolio(t)
      t.cycles++
      // msleep(20) sleeps msecs_to_jiffies(20) + 1 jiffies.
      yield { kind: 'sleep', ms: KMIGRATED_FIXED_SLEEP_MS + 1 }
      yield* this.waitWork(t)
    }
  }

  /** kmigrated_wait_work() */
  private *waitWork(t: Kthread): Generator<Wait, void, void> {
    const j = this.kmigrate_sleep_ms
    if (!j) return
    this.sleep_expire = this.k.sched.now + j
    // The seed waits on the condition `true`, which holds at once: no sleep (quirk S1).
    const cond = this.k.quirks.kmigrated_wait_returns_at_once
      ? () => true
      : () => t.should_stop() || this.k.sched.now >= this.sleep_expire
    yield { kind: 'wait', wq: this.wait, cond, timeout: j, uninterruptible: true }
  }

  /** kmigrated_migrate_folio() */
  private *migrateFolio(t: Kthread): Generator<Wait, void, void> {
    const slot = this.cur ?? this.slots[0]
    this.cur = slot
    this.kmigrated_cur_mm = slot.mm
    yield* this.migrateMm(t, slot)
    // V3 never advances kmigrated_daemon.mm_slot (docs/spec/kscand-v3.md §7.9, §7.13 quirk 4);
    // the fix goes round-robin.
    if (!this.k.quirks.kmigrated_sticky_slot && this.slots.length > 0) {
      const i = this.slots.indexOf(slot)
      this.cur = this.slots[(i + 1) % this.slots.length]
    }
  }

  /** kmigrated_migrate_mm() */
  private *migrateMm(t: Kthread, slot: KmigratedMmSlot): Generator<Wait, void, void> {
    const { k } = this
    const mm = slot.mm
    const list = slot.migrate_head
    let counter = MSTAT_UPDATE_FREQ
    let msuccess = 0
    let mfailed = 0
    while (list.length > 0) {
      if (this.kmigrated_clean_list) break
      const page = list.shiftPage()
      const nid = list.shiftNid()
      list.drop()
      this.queued--
      // mmap_read_trylock() never fails here: nothing else holds mmap_lock for write.
      const dest = mm.target_node
      const ret = this.promoteFolio(mm, page, nid, dest)
      counter--
      if (ret === 0) {
        k.vmstat.v[VM.nr_kscand_migrated]++
        msuccess++
        t.charge(k.costs.migrateNs)
      } else {
        k.vmstat.v[VM.nr_kscand_migrate_failed]++
        mfailed++
        t.charge(k.costs.checkNs)
      }
      if (k.tracer.enabled(EV.kmem_scan_mm_migrate)) {
        k.tracer.emit(
          t.nowUs(),
          t.pid,
          t.comm,
          EV.kmem_scan_mm_migrate,
          [mm.id, ret, dest, msuccess, mfailed],
          mm.owner,
        )
      }
      if (t.needResched()) yield RESCHED
      else if (counter % HOST_YIELD_EVERY === 0) yield HOST_YIELD
      if (counter === 0) {
        updateMstatRatio(slot, msuccess, mfailed)
        msuccess = 0
        mfailed = 0
        counter = MSTAT_UPDATE_FREQ
      }
    }
    this.kmigrated_cur_mm = null
  }

  /** kmigrated_promote_folio(): 0 on success, else a code of docs/spec/kscand-v3.md §7.10. */
  promoteFolio(mm: MmStruct, page: number, nid: number, dest: number): number {
    const { k } = this
    // The PFN is gone (process exited, or the page moved since it was queued).
    if (mm.mm_users === 0 || mm.node[page] !== nid) return KSCAND_INVALID_FOLIO
    const f = mm.flags[page]
    if (f & PG_INVALID) return KSCAND_INVALID_FOLIO
    if (!(f & PG_LRU)) return KSCAND_NONLRU_FOLIO
    // is_hot_page()
    if (f & PG_IDLE || !(f & (PG_REFERENCED | PG_YOUNG))) return KSCAND_NOT_HOT_PAGE
    k.vmstat.v[VM.nr_kscand_hotpage]++
    if (k.machine.toptier[nid]) return KSCAND_INELIGIBLE_SRC_NODE
    if (nid === dest) return KSCAND_SAME_SRC_DEST_NODE
    // kscand_migrate_misplaced_folio_prepare(): the target must stay above its high watermark.
    if (!k.machine.migrateBalanced(dest, 1)) {
      k.wakeupKswapd(dest)
      return KSCAND_LRU_ISOLATION_ERR
    }
    k.movePage(mm, page, dest)
    k.vmstat.v[VM.pgmigrate_success]++
    k.vmstat.v[VM.numa_pages_migrated]++
    k.vmstat.countNode(dest, 'pgpromote_success')
    mm.quality.promoted++
    return 0
  }
}

/** update_mstat_ratio() (patch 11): decay by 4 and recompute the failure percentage. */
export function updateMstatRatio(slot: KmigratedMmSlot, msuccess: number, mfailed: number): void {
  slot.msuccess = (slot.msuccess >> 2) + msuccess
  slot.mfailed = (slot.mfailed >> 2) + mfailed
  const sum = slot.msuccess + slot.mfailed
  slot.fratio = sum ? Math.floor((slot.mfailed * 100) / sum) : 0
}
