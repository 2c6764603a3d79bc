/**
 * kswapd, reduced to what tiering needs: when a top-tier node falls under its low watermark
 * (an allocation) or cannot take a promotion (migrate_balanced_pgdat() failed), kswapd of
 * that node demotes its coldest pages to the nearest slow-tier node until free memory
 * reaches WMARK_PROMO — memory tiering mode balances to the promo watermark. "Coldest" is a
 * second-chance clock: folio_referenced() clears the Accessed bit and PG_young, and a page
 * with neither is demoted. Switched by /sys/kernel/mm/numa/demotion_enabled; without it
 * there is no swap in the simulation, so kswapd can free nothing.
 */
import { nextAccessAfter } from './access.ts'
import { SWAP_CLUSTER_MAX } from './constants.ts'
import type { KthreadContext } from './context.ts'
import { PG_IDLE, PG_LRU, PG_UNEVICTABLE, PG_YOUNG } from './mm.ts'
import { type Kthread, RESCHED, type Wait, WaitQueue } from './sched.ts'
import { VM } from './vmstat.ts'

/** Pages examined per shrink call before kswapd offers to reschedule. */
const SCAN_BATCH = 4096

export class Kswapd {
  readonly thread: Kthread
  readonly wait = new WaitQueue()
  private woken = false
  /** Index of the process the clock hand is in. */
  private hand = 0
  private readonly targets: number[]

  constructor(
    private readonly k: KthreadContext,
    readonly nid: number,
    pid: number,
  ) {
    this.thread = k.sched.kthread(`kswapd${nid}`, pid, (t) => this.main(t))
    this.targets = k.machine.demotionTargets(nid)
  }

  /** wakeup_kswapd() */
  wake(): void {
    if (!this.thread.gen) return
    this.woken = true
    this.k.sched.wake_up(this.wait)
  }

  private *main(t: Kthread): Generator<Wait, void, void> {
    for (;;) {
      if (t.should_stop()) return
      yield {
        kind: 'wait',
        wq: this.wait,
        cond: () => t.should_stop() || this.woken,
        timeout: Number.POSITIVE_INFINITY,
      }
      this.woken = false
      if (t.should_stop()) return
      yield* this.balance(t)
      t.cycles++
    }
  }

  /** balance_pgdat(): demote until the node is above WMARK_PROMO or nothing can go. */
  private *balance(t: Kthread): Generator<Wait, void, void> {
    const node = this.k.machine.nodes[this.nid]
    let fruitless = 0
    while (this.k.demotion_enabled && node.free < node.wmarkPromo) {
      const onNode = node.pages - node.free
      if (onNode === 0) break
      const { demoted, visited, blocked } = this.shrink(t)
      if (blocked) break
      fruitless = demoted > 0 ? 0 : fruitless + visited
      // Two sweeps of the node's pages without a victim: everything left is referenced or
      // pinned. (A batch may walk only pages on other nodes: that ends nothing.)
      if (fruitless >= 2 * onNode) break
      if (t.needResched()) yield RESCHED
    }
  }

  /**
   * One batch of the clock: demote up to SWAP_CLUSTER_MAX unreferenced pages. The clock walks
   * the processes' pages, so it skips those on other nodes (not on this node's LRU) and, as
   * isolate_lru_folios() never sees them, non-LRU and unevictable folios: `visited` counts
   * this node's pages walked, `scanned` the evictable LRU folios (pgscan_kswapd).
   */
  private shrink(t: Kthread): { demoted: number; visited: number; blocked: boolean } {
    const { k, nid } = this
    const procs = k.processList()
    const nowRel = k.sched.now - k.timeBase
    let demoted = 0
    let visited = 0
    let scanned = 0
    let budget = SCAN_BATCH
    let blocked = false
    for (let n = 0; n < procs.length && budget > 0 && demoted < SWAP_CLUSTER_MAX && !blocked; n++) {
      if (this.hand >= procs.length) this.hand = 0
      const mm = procs[this.hand].mm
      const { node, flags, nextAccess } = mm
      let i = mm.kswapdHand
      // None of this mm's pages is on the node: nothing of it is on the node's LRU.
      if (mm.pagesOnNode[nid] === 0) i = mm.nrPages
      for (; i < mm.nrPages && budget > 0 && demoted < SWAP_CLUSTER_MAX; i++) {
        budget--
        if (node[i] !== nid) continue
        visited++
        let f = flags[i]
        if (!(f & PG_LRU) || f & PG_UNEVICTABLE) continue
        scanned++
        // folio_referenced(): test-and-clear the A bit; a referenced folio loses PG_idle.
        let referenced = nextAccess[i] <= nowRel
        if (referenced) {
          nextAccess[i] = nextAccessAfter(mm, i, nowRel)
          f &= ~PG_IDLE
        }
        // folio_test_clear_young()
        if (f & PG_YOUNG) {
          f &= ~PG_YOUNG
          referenced = true
        }
        flags[i] = f
        if (referenced) continue
        const dst = this.demotionTarget()
        if (dst < 0) {
          k.vmstat.v[VM.pgmigrate_fail]++
          blocked = true
          break
        }
        k.movePage(mm, i, dst, nid)
        mm.quality.demoted++
        demoted++
      }
      if (i >= mm.nrPages && !blocked) {
        mm.kswapdHand = 0
        this.hand++
      } else {
        mm.kswapdHand = i
      }
    }
    const v = k.vmstat.v
    v[VM.pgscan_kswapd] += scanned
    k.vmstat.countNode(nid, 'pgdemote_kswapd', demoted)
    v[VM.pgmigrate_success] += demoted
    t.charge(scanned * k.costs.reclaimScanNs + demoted * k.costs.migrateNs, SCAN_BATCH - budget)
    return { demoted, visited, blocked }
  }

  /** The nearest slow-tier node that can still allocate above its min watermark. */
  private demotionTarget(): number {
    const { machine } = this.k
    for (const id of this.targets) {
      if (machine.nodes[id].free > machine.nodes[id].wmarkMin) return id
    }
    return -1
  }
}
