/**
 * Pages of each node by what holds them, as the kernel's LRU lists and node stat items count
 * them (docs/spec/kernel-interfaces.md §7.3). Counted on demand from the processes' page
 * arrays: the walk is one pass over every mapped page, bounded by the machine's size.
 */
import type { Kernel } from './kernel.ts'
import type { VmaKind } from './spec.ts'

export interface NodePages {
  readonly free: number
  /** Anonymous pages (NR_ANON_MAPPED), mlocked ones included. */
  readonly anon: number
  /** Page cache of files, shmem excluded. */
  readonly file: number
  /** shmem (NR_SHMEM): page cache on the anon LRU. */
  readonly shmem: number
  /** mlocked pages: the unevictable LRU (NR_UNEVICTABLE, NR_MLOCK). */
  readonly mlocked: number
  /** Pages of hugetlb VMAs (NR_HUGETLB): on no LRU. */
  readonly hugetlb: number
  /** Pages of VM_IO / VM_MIXEDMAP VMAs: in use, on no LRU and in no other counter. */
  readonly other: number
}

type Class = 'anon' | 'file' | 'shmem' | 'mlocked' | 'hugetlb' | 'other'
const CLASS: Record<VmaKind, Class> = {
  anon: 'anon',
  prot_none: 'anon',
  mlocked: 'mlocked',
  file: 'file',
  file_ro: 'file',
  shared: 'shmem',
  hugetlb: 'hugetlb',
  io: 'other',
  mixedmap: 'other',
}

export function nodePages(k: Kernel): NodePages[] {
  const nodes = k.machine.nodes
  const counts = {
    anon: new Float64Array(nodes.length),
    file: new Float64Array(nodes.length),
    shmem: new Float64Array(nodes.length),
    mlocked: new Float64Array(nodes.length),
    hugetlb: new Float64Array(nodes.length),
    other: new Float64Array(nodes.length),
  }
  for (const p of k.processList()) {
    const { node } = p.mm
    for (const v of p.mm.vmas) {
      const c = counts[CLASS[v.kind]]
      for (let i = v.first; i < v.first + v.nrPages; i++) c[node[i]]++
    }
  }
  return nodes.map((n) => ({
    free: n.free,
    anon: counts.anon[n.id] + counts.mlocked[n.id],
    file: counts.file[n.id],
    shmem: counts.shmem[n.id],
    mlocked: counts.mlocked[n.id],
    hugetlb: counts.hugetlb[n.id],
    other: counts.other[n.id],
  }))
}
