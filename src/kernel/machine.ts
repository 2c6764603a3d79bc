/**
 * The simulated machine: NUMA nodes with a tier, a capacity in 4 KiB pages, free pages and
 * the per-zone watermarks the allocator, kswapd and migrate_balanced_pgdat() compare against.
 * Memory tiers are numbered as the kernel numbers them (adistance >> MEMTIER_CHUNK_BITS).
 */
import {
  GiB,
  MEMTIER_ADISTANCE_DRAM,
  MEMTIER_CHUNK_BITS,
  MEMTIER_DEFAULT_DAX_ADISTANCE,
  PAGE_SIZE,
  WATERMARK_SCALE_FACTOR,
} from './constants.ts'
import { checkInt, checkNumber, einval } from './errors.ts'

/** Nodes are stored in a Uint8Array per page; 255 is reserved. */
export const MAX_NUMNODES = 64
const MAX_NODE_BYTES = 16 * 1024 * GiB

export interface NodeSpec {
  /** Bytes of memory; a positive multiple of 4096. */
  readonly capacity: number
  /** Nodes with CPUs define the top tier (node_is_toptier). */
  readonly cpus: boolean
  /** Abstract distance; defaults to DRAM for CPU nodes and dax/kmem (CXL) otherwise. */
  readonly adistance?: number
  /** Load-to-use latency used by the quality model; defaults 100 ns DRAM / 220 ns otherwise. */
  readonly latency_ns?: number
  readonly label?: string
}

export interface TopologySpec {
  readonly nodes: readonly NodeSpec[]
  /** SLIT-style distance matrix; defaults to 10 local, 21 between CPU nodes, 50 to others. */
  readonly distance?: readonly (readonly number[])[]
}

/** Two DRAM sockets and one CXL expander (the shape of the pghot RFC test box, scaled down). */
export const DEFAULT_TOPOLOGY: TopologySpec = {
  nodes: [
    { capacity: 4 * GiB, cpus: true, label: 'DRAM' },
    { capacity: 4 * GiB, cpus: true, label: 'DRAM' },
    { capacity: 8 * GiB, cpus: false, label: 'CXL' },
  ],
  distance: [
    [10, 32, 50],
    [32, 10, 50],
    [50, 50, 10],
  ],
}

export class NumaNode {
  readonly memtier: number
  toptier = false
  free: number
  /** WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO in pages (mm/page_alloc.c). */
  wmarkMin = 0
  wmarkLow = 0
  wmarkHigh = 0
  wmarkPromo = 0

  constructor(
    readonly id: number,
    readonly pages: number,
    readonly cpus: boolean,
    readonly adistance: number,
    readonly latency_ns: number,
    readonly label: string,
  ) {
    this.free = pages
    this.memtier = adistance >> MEMTIER_CHUNK_BITS
  }
}

function intSqrt(x: number): number {
  return Math.floor(Math.sqrt(x))
}

export class Machine {
  readonly nodes: NumaNode[]
  readonly distance: number[][]
  /** node_is_toptier() of each node, as a byte array for the PTE loop. */
  readonly toptier: Uint8Array

  constructor(spec: TopologySpec = DEFAULT_TOPOLOGY) {
    const n = spec.nodes?.length
    checkInt('number of nodes', n, 1, MAX_NUMNODES)
    this.nodes = spec.nodes.map((s, id) => {
      const what = `node${id}`
      checkInt(`${what}.capacity`, s.capacity, PAGE_SIZE, MAX_NODE_BYTES)
      if (s.capacity % PAGE_SIZE !== 0) throw einval(`${what}.capacity must be a multiple of 4096`)
      if (typeof s.cpus !== 'boolean') throw einval(`${what}.cpus must be a boolean`)
      const adistance =
        s.adistance ?? (s.cpus ? MEMTIER_ADISTANCE_DRAM : MEMTIER_DEFAULT_DAX_ADISTANCE)
      checkInt(`${what}.adistance`, adistance, 0, 1 << 20)
      const latency_ns = s.latency_ns ?? (adistance <= MEMTIER_ADISTANCE_DRAM ? 100 : 220)
      checkNumber(`${what}.latency_ns`, latency_ns, 1, 1e6)
      const label = s.label ?? (s.cpus ? 'DRAM' : 'CXL')
      return new NumaNode(id, s.capacity / PAGE_SIZE, s.cpus, adistance, latency_ns, label)
    })
    if (!this.nodes.some((x) => x.cpus))
      throw einval('the topology needs at least one node with cpus')
    this.distance = this.nodes.map((a) =>
      this.nodes.map((b) => {
        const d = spec.distance?.[a.id]?.[b.id] ?? (a === b ? 10 : a.cpus && b.cpus ? 21 : 50)
        checkInt(`distance[${a.id}][${b.id}]`, d, 10, 254)
        return d
      }),
    )
    // node_is_toptier(): at or above the lowest-numbered tier that holds a CPU node.
    const cpuTier = Math.min(...this.nodes.filter((x) => x.cpus).map((x) => x.memtier))
    this.toptier = new Uint8Array(this.nodes.length)
    for (const node of this.nodes) {
      node.toptier = node.memtier <= cpuTier
      this.toptier[node.id] = node.toptier ? 1 : 0
    }
    this.setupWatermarks()
  }

  /** __setup_per_zone_wmarks() with min_free_kbytes = int_sqrt(lowmem_kbytes * 16). */
  private setupWatermarks(): void {
    const totalPages = this.nodes.reduce((s, x) => s + x.pages, 0)
    const minFreeKb = Math.min(Math.max(intSqrt(totalPages * 4 * 16), 128), 262144)
    const minFreePages = minFreeKb / 4
    for (const node of this.nodes) {
      const min = Math.floor((minFreePages * node.pages) / totalPages)
      const tmp = Math.max(min >> 2, Math.floor((node.pages * WATERMARK_SCALE_FACTOR) / 10000))
      node.wmarkMin = min
      node.wmarkLow = min + tmp
      node.wmarkHigh = min + 2 * tmp
      node.wmarkPromo = min + 3 * tmp
    }
  }

  node(id: number): NumaNode {
    const node = this.nodes[id]
    if (!Number.isInteger(id) || !node) throw einval(`no such node: ${id}`)
    return node
  }

  isToptier(id: number): boolean {
    return Number.isInteger(id) && this.toptier[id] === 1
  }

  /** Nodes ordered by distance from `from` (the zonelist), ties by id. */
  zonelist(from: number): number[] {
    return this.nodes
      .map((x) => x.id)
      .sort((a, b) => this.distance[from][a] - this.distance[from][b] || a - b)
  }

  /** migrate_balanced_pgdat(): the node keeps its high watermark after taking nr pages. */
  migrateBalanced(id: number, nr: number): boolean {
    const node = this.nodes[id]
    return node.free - nr > node.wmarkHigh
  }

  /** Demotion targets of a top-tier node: slow-tier nodes, nearest first. */
  demotionTargets(from: number): number[] {
    return this.zonelist(from).filter((id) => !this.nodes[id].toptier)
  }

  /** Memory tiers as /sys/devices/virtual/memory_tiering lists them. */
  memoryTiers(): { id: number; nodes: number[] }[] {
    const tiers = new Map<number, number[]>()
    for (const node of this.nodes)
      tiers.set(node.memtier, [...(tiers.get(node.memtier) ?? []), node.id])
    return [...tiers.entries()].sort((a, b) => a[0] - b[0]).map(([id, nodes]) => ({ id, nodes }))
  }

  /** Pages that `nodes` can still give above their min watermark. */
  allocatable(nodes: readonly number[]): number {
    return nodes.reduce(
      (s, id) => s + Math.max(0, this.nodes[id].free - this.nodes[id].wmarkMin),
      0,
    )
  }
}
