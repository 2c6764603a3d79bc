/**
 * Processes' address spaces. Page state lives in typed arrays indexed by the page's position
 * in the mm (VMAs laid end to end): 8 bytes per 4 KiB page —
 *   node (u8), folio flags (u8), quantized access rate (u16), next access time (u32).
 * A PTE's Accessed bit is set iff its page's next access time has passed.
 */
import { MAX_VMAS, PAGE_SIZE, PR_PTE_A_SCAN_SCALE_DEFAULT } from './constants.ts'
import { checkInt, einval } from './errors.ts'
import type { ProcessSpec, VmaKind, VmaSpec, WorkloadSpec } from './spec.ts'
import { VMA_KINDS } from './spec.ts'

// Folio flags kept per page.
export const PG_IDLE = 1
export const PG_YOUNG = 2
export const PG_REFERENCED = 4
export const PG_LRU = 8
export const PG_UNEVICTABLE = 16
/** folio_maybe_mapped_shared(): mapped by more than one process. */
export const PG_SHARED = 32
/**
 * Not a folio flag: the page's PTE is PROT_NONE for a NUMA hinting fault (change_prot_numa).
 * Each page is mapped once, so its one PTE's state can live beside the folio's flags.
 */
export const PTE_PROTNONE = 64
/** is_valid_folio() rejects these (docs/spec/kscand-v3.md §7.5). */
export const PG_INVALID = PG_UNEVICTABLE | PG_SHARED

/** Flags of a page a walk did not find young: idle, or not a folio it tests (PageBins). */
const NOT_YOUNG = PG_IDLE | PG_INVALID

/**
 * Counts of an mm by rows of 2^shift consecutive pages, for an observer (the experiments'
 * heatmaps): of every `stride`-th page (at least 8 a row, at most every 8th page), how many
 * kscand's walks went over and how many of those they found with the Accessed bit set (a
 * page per visit, since the observer last cleared them); and the pages on a top-tier node now.
 * Kept only when asked for (Kernel.recordPageBins); the kernel never reads them, so keeping
 * them changes nothing of the simulation.
 */
export class PageBins {
  readonly rows: number
  readonly stride: number
  readonly scanned: Uint32Array
  readonly accessed: Uint32Array
  readonly top: Int32Array

  constructor(
    readonly shift: number,
    node: Uint8Array,
    toptier: Uint8Array,
  ) {
    this.rows = Math.ceil(node.length / 2 ** shift)
    this.stride = Math.min(8, Math.max(1, 2 ** shift / 8))
    this.scanned = new Uint32Array(this.rows)
    this.accessed = new Uint32Array(this.rows)
    this.top = new Int32Array(this.rows)
    for (let i = 0; i < node.length; i++) this.top[i >>> shift] += toptier[node[i]]
  }

  /**
   * kscand's walk went over the PTEs of pages [from, to) and left `flags` as it found them:
   * a valid folio's PG_idle is clear after the walk iff its Accessed bit was set
   * (docs/spec/kscand-v3.md §7.6).
   */
  visit(flags: Uint8Array, from: number, to: number): void {
    const { shift, stride, scanned, accessed } = this
    const mask = stride - 1
    for (let r = from >>> shift; from < to; r++) {
      const end = Math.min(to, (r + 1) << shift)
      let seen = 0
      let young = 0
      for (let i = (from + mask) & ~mask; i < end; i += stride) {
        seen++
        young += (flags[i] & NOT_YOUNG) === 0 ? 1 : 0
      }
      scanned[r] += seen
      accessed[r] += young
      from = end
    }
  }
}

/** First mapping address; VMAs follow at 2 MiB-aligned addresses with a 2 MiB gap. */
export const MMAP_BASE = 0x7f0000000000
const VMA_ALIGN = 2 * 1024 * 1024

export class Vma {
  readonly end: number
  readonly nrPages: number
  /** Passes kscand_walk_page_vma()'s filter (docs/spec/kscand-v3.md §7.5). */
  readonly scannable: boolean

  constructor(
    readonly start: number,
    readonly first: number,
    readonly size: number,
    readonly kind: VmaKind,
    readonly mbind: boolean,
  ) {
    this.end = start + size
    this.nrPages = size / PAGE_SIZE
    this.scannable =
      !mbind &&
      kind !== 'file_ro' &&
      kind !== 'hugetlb' &&
      kind !== 'mixedmap' &&
      kind !== 'io' &&
      kind !== 'prot_none'
  }

  /** Whether the workload touches this VMA at all. */
  get accessible(): boolean {
    return this.kind !== 'prot_none'
  }

  initialFlags(): number {
    if (this.kind === 'shared') return PG_LRU | PG_SHARED
    if (this.kind === 'mlocked') return PG_LRU | PG_UNEVICTABLE
    return PG_LRU
  }
}

export function layoutVmas(specs: readonly VmaSpec[], maxPages: number): Vma[] {
  if (!Array.isArray(specs) || specs.length === 0) throw einval('a process needs at least one VMA')
  checkInt('number of VMAs', specs.length, 1, MAX_VMAS)
  const vmas: Vma[] = []
  let addr = MMAP_BASE
  let first = 0
  specs.forEach((s, i) => {
    if (!s || !(VMA_KINDS as readonly string[]).includes(s.kind)) {
      throw einval(`vmas[${i}].kind must be one of ${VMA_KINDS.join(', ')}`)
    }
    checkInt(`vmas[${i}].size`, s.size, PAGE_SIZE, maxPages * PAGE_SIZE)
    if (s.size % PAGE_SIZE !== 0) throw einval(`vmas[${i}].size must be a multiple of 4096`)
    if (s.mbind !== undefined && typeof s.mbind !== 'boolean') {
      throw einval(`vmas[${i}].mbind must be a boolean`)
    }
    vmas.push(new Vma(addr, first, s.size, s.kind, s.mbind ?? false))
    first += s.size / PAGE_SIZE
    addr += Math.ceil(s.size / VMA_ALIGN) * VMA_ALIGN + VMA_ALIGN
  })
  if (first > maxPages) throw einval(`the VMAs add up to ${first} pages, more than the machine has`)
  return vmas
}

/**
 * The k-th page the workload accesses → its page index in the mm, without materialising a
 * list (which would cost 4 bytes per page).
 */
export class AccessedPages {
  readonly length: number
  private readonly starts: number[] = []
  private readonly firsts: number[] = []

  constructor(vmas: readonly Vma[]) {
    let n = 0
    for (const v of vmas) {
      this.starts.push(n)
      this.firsts.push(v.first)
      n += v.nrPages
    }
    this.length = n
  }

  at(k: number): number {
    const { starts } = this
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= k) lo = mid
      else hi = mid - 1
    }
    return this.firsts[lo] + k - starts[lo]
  }
}

/** Per-mm counters for the quality metrics (ground truth vs what kscand saw). */
export class MmQuality {
  /** Slow-tier pages queued for promotion, and how many of them were truly hot. */
  queued = 0
  queuedHot = 0
  /** Truly hot slow-tier pages that kscand examined (the recall denominator). */
  hotSlowSeen = 0
  promoted = 0
  demoted = 0
}

export class MmStruct {
  readonly nrPages: number
  readonly node: Uint8Array
  readonly flags: Uint8Array
  readonly rateQ: Uint16Array
  readonly nextAccess: Uint32Array
  /** State of this mm's access sampling: a 32-bit LCG (access.ts, inlined in pte-walk.ts). */
  readonly rng = new Uint32Array(1)
  /**
   * mm->pte_scan_scale (docs/spec/kscand-v3.md §6): every new mm starts at the default, never
   * inherited.
   */
  pte_scan_scale = PR_PTE_A_SCAN_SCALE_DEFAULT
  /** mm->target_node (docs/spec/kscand-v3.md §7.7). */
  target_node = 0
  /** mm_users; 0 once the process exited (kscand_test_exit). */
  mm_users = 1
  /** Sweep period for sequential workloads (ms; Infinity when idle), 0 for Poisson ones. */
  sweepMs = 0
  /** When the sweep started, relative to the kernel's time base (sequential workloads). */
  sweepStartRel = 0
  /** Pages per node and summed access rate per node (for hit ratio and latency). */
  readonly pagesOnNode: Float64Array
  readonly rateOnNode: Float64Array
  readonly quality = new MmQuality()
  /** kswapd's clock hand in this mm. */
  kswapdHand = 0
  /** Counts by rows of pages for an observer, or null (PageBins). */
  bins: PageBins | null = null

  constructor(
    /** The hashed pointer printed as mm=%p. */
    readonly id: number,
    readonly owner: number,
    readonly vmas: readonly Vma[],
    nrNodes: number,
  ) {
    const last = vmas[vmas.length - 1]
    this.nrPages = last.first + last.nrPages
    this.node = new Uint8Array(this.nrPages)
    this.flags = new Uint8Array(this.nrPages)
    this.rateQ = new Uint16Array(this.nrPages)
    this.nextAccess = new Uint32Array(this.nrPages)
    this.pagesOnNode = new Float64Array(nrNodes)
    this.rateOnNode = new Float64Array(nrNodes)
  }

  /** VMA_ITERATOR(vmi, mm, address): index of the first VMA with vm_end > address. */
  findVma(address: number): number {
    const vmas = this.vmas
    let lo = 0
    let hi = vmas.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (vmas[mid].end > address) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** Page index of a virtual address, or -1 when it is not mapped. */
  pageOf(address: number): number {
    const v = this.vmas[this.findVma(address)]
    if (!v || address < v.start) return -1
    return v.first + Math.floor((address - v.start) / PAGE_SIZE)
  }

  /** The pages the workload accesses (every VMA but PROT_NONE ones). */
  accessedPages(): AccessedPages {
    return new AccessedPages(this.vmas.filter((v) => v.accessible))
  }
}

export class Process {
  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly mm: MmStruct,
    readonly spec: ProcessSpec,
    readonly workload: WorkloadSpec,
    /** Accesses per second; a closed-loop process's follows from its latency. */
    public access_rate: number,
    readonly started_at: number,
    readonly seed: number,
    readonly parent: number | null,
  ) {}

  /** Hot-set shifts that happened (assignRates' phase). */
  phase = 0
}
