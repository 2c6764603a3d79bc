/**
 * The memory files as 6.16 prints them (docs/spec/kernel-interfaces.md §7): /proc/meminfo
 * (fs/proc/meminfo.c), and per node meminfo, numastat and vmstat (drivers/base/node.c), with
 * the node directory's listings. Pinned line by line on the small machine of the tests: two
 * 64 MiB DRAM nodes and a 128 MiB CXL node (65536 pages; watermarks high 192/192/384, low
 * 160/160/320 pages).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { NODE_COUNTER_NAMES } from '../../src/kernel/vmstat.ts'
import { type Built, build, JSON_ACCEPT } from '../helpers/http.ts'

let t: Built
beforeEach(async () => {
  t = await build()
})
afterEach(() => t.close())

const get = async (url: string, json = false) =>
  t.server.inject({ method: 'GET', url, headers: json ? JSON_ACCEPT : {} })
const NODE = '/sys/devices/system/node'

/** 2048 anon, 256 file, 256 shmem, 256 mlocked, 512 hugetlb and 256 VM_IO pages on node 0. */
function execMixed() {
  return t.kernel.exec({
    comm: 'mixed',
    vmas: [
      { kind: 'anon', size: 8 * MiB },
      { kind: 'file', size: MiB },
      { kind: 'shared', size: MiB },
      { kind: 'mlocked', size: MiB },
      { kind: 'hugetlb', size: 2 * MiB },
      { kind: 'io', size: MiB },
    ],
    policy: { mode: 'bind', nodes: [0] },
  })
}

describe('/proc/meminfo', () => {
  it('prints the fields of meminfo_proc_show() in order, `%-16s%8lu kB`', async () => {
    execMixed()
    const r = await get('/proc/meminfo')
    expect(r.statusCode).toBe(200)
    // 65536 − 3584 pages free; available = free − Σhigh (768) + file (256) − min(128, Σlow).
    expect(r.body.split('\n')).toEqual([
      'MemTotal:         262144 kB',
      'MemFree:          247808 kB',
      'MemAvailable:     245248 kB',
      'Buffers:               0 kB',
      'Cached:             2048 kB',
      'SwapCached:            0 kB',
      'Active:            10240 kB',
      'Inactive:              0 kB',
      'Active(anon):       9216 kB',
      'Inactive(anon):        0 kB',
      'Active(file):       1024 kB',
      'Inactive(file):        0 kB',
      'Unevictable:        1024 kB',
      'Mlocked:            1024 kB',
      'SwapTotal:             0 kB',
      'SwapFree:              0 kB',
      'Zswap:                 0 kB',
      'Zswapped:              0 kB',
      'Dirty:                 0 kB',
      'Writeback:             0 kB',
      'AnonPages:          9216 kB',
      'Mapped:             2048 kB',
      'Shmem:              1024 kB',
      'KReclaimable:          0 kB',
      'Slab:                  0 kB',
      'SReclaimable:          0 kB',
      'SUnreclaim:            0 kB',
      'KernelStack:           0 kB',
      'PageTables:            0 kB',
      'SecPageTables:         0 kB',
      'NFS_Unstable:          0 kB',
      'Bounce:                0 kB',
      'WritebackTmp:          0 kB',
      'CommitLimit:      131072 kB',
      'Committed_AS:      10240 kB',
      'VmallocTotal:   34359738367 kB',
      'VmallocUsed:           0 kB',
      'VmallocChunk:          0 kB',
      'Percpu:                0 kB',
      'HardwareCorrupted:     0 kB',
      'AnonHugePages:         0 kB',
      'ShmemHugePages:        0 kB',
      'ShmemPmdMapped:        0 kB',
      'FileHugePages:         0 kB',
      'FilePmdMapped:         0 kB',
      'CmaTotal:              0 kB',
      'CmaFree:               0 kB',
      'Unaccepted:            0 kB',
      'Balloon:               0 kB',
      'HugePages_Total:       0',
      'HugePages_Free:        0',
      'HugePages_Rsvd:        0',
      'HugePages_Surp:        0',
      'Hugepagesize:       2048 kB',
      'Hugetlb:            2048 kB',
      'DirectMap4k:           0 kB',
      'DirectMap2M:      262144 kB',
      'DirectMap1G:           0 kB',
      '',
    ])
    const json = (await get('/proc/meminfo', true)).json()
    expect(json.value[0]).toEqual({ name: 'MemTotal', value: 262144, unit: 'kB' })
    expect(json.value).toContainEqual({ name: 'HugePages_Total', value: 0, unit: null })
  })

  it('follows the machine: free memory comes back when the process exits', async () => {
    const p = execMixed()
    t.kernel.exit(p.pid)
    const lines = (await get('/proc/meminfo')).body.split('\n')
    expect(lines).toContain('MemFree:          262144 kB')
    expect(lines).toContain('AnonPages:             0 kB')
    expect(lines).toContain('Committed_AS:          0 kB')
  })
})

describe('/sys/devices/system/node/nodeN/meminfo', () => {
  it('prints node_read_meminfo()’s fields as `Node N Field: value kB`', async () => {
    execMixed()
    const r = await get(`${NODE}/node0/meminfo`)
    expect(r.statusCode).toBe(200)
    expect(r.body.split('\n')).toEqual([
      'Node 0 MemTotal:          65536 kB',
      'Node 0 MemFree:           51200 kB',
      'Node 0 MemUsed:           14336 kB',
      'Node 0 SwapCached:            0 kB',
      'Node 0 Active:            10240 kB',
      'Node 0 Inactive:              0 kB',
      'Node 0 Active(anon):       9216 kB',
      'Node 0 Inactive(anon):        0 kB',
      'Node 0 Active(file):       1024 kB',
      'Node 0 Inactive(file):        0 kB',
      'Node 0 Unevictable:        1024 kB',
      'Node 0 Mlocked:            1024 kB',
      'Node 0 Dirty:                 0 kB',
      'Node 0 Writeback:             0 kB',
      'Node 0 FilePages:          2048 kB',
      'Node 0 Mapped:             2048 kB',
      'Node 0 AnonPages:          9216 kB',
      'Node 0 Shmem:              1024 kB',
      'Node 0 KernelStack:           0 kB',
      'Node 0 PageTables:            0 kB',
      'Node 0 SecPageTables:         0 kB',
      'Node 0 NFS_Unstable:          0 kB',
      'Node 0 Bounce:                0 kB',
      'Node 0 WritebackTmp:          0 kB',
      'Node 0 KReclaimable:          0 kB',
      'Node 0 Slab:                  0 kB',
      'Node 0 SReclaimable:          0 kB',
      'Node 0 SUnreclaim:            0 kB',
      'Node 0 AnonHugePages:         0 kB',
      'Node 0 ShmemHugePages:        0 kB',
      'Node 0 ShmemPmdMapped:        0 kB',
      'Node 0 FileHugePages:         0 kB',
      'Node 0 FilePmdMapped:         0 kB',
      'Node 0 Unaccepted:            0 kB',
      'Node 0 HugePages_Total:     0',
      'Node 0 HugePages_Free:      0',
      'Node 0 HugePages_Surp:      0',
      '',
    ])
    const node2 = (await get(`${NODE}/node2/meminfo`)).body
    expect(node2).toMatch(/^Node 2 MemTotal: {9}131072 kB\nNode 2 MemFree: {10}131072 kB\n/)
    const json = (await get(`${NODE}/node0/meminfo`, true)).json()
    expect(json.value[2]).toEqual({ name: 'MemUsed', value: 14336, unit: 'kB' })
  })
})

describe('/sys/devices/system/node/nodeN/numastat', () => {
  it('counts each page a process faults in, and each page migrated to the node', async () => {
    execMixed()
    // The task of an interleave policy runs on the CPU node nearest its first node (1).
    const p = t.kernel.exec({
      comm: 'il',
      size: 4 * MiB,
      policy: { mode: 'interleave', nodes: [1, 2] },
    })
    const numastat = async (nid: number) => (await get(`${NODE}/node${nid}/numastat`)).body
    expect(await numastat(0)).toBe(
      'numa_hit 3584\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 3584\nother_node 0\n',
    )
    expect(await numastat(1)).toBe(
      'numa_hit 512\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 512\nlocal_node 512\nother_node 0\n',
    )
    expect(await numastat(2)).toBe(
      'numa_hit 512\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 512\nlocal_node 0\nother_node 512\n',
    )
    // kswapd1 demoting a page of node 1 to node 2 allocates it there from node 1's CPU.
    t.kernel.movePage(p.mm, 0, 2, 1)
    expect(await numastat(2)).toMatch(/^numa_hit 513\n.*\nother_node 513\n$/s)
    const json = (await get(`${NODE}/node1/numastat`, true)).json()
    expect(json.value).toEqual({
      numa_hit: 512,
      numa_miss: 0,
      numa_foreign: 0,
      interleave_hit: 512,
      local_node: 512,
      other_node: 0,
    })
  })

  it('an allocation that falls back to another node is a miss there and foreign at home', async () => {
    const node0 = t.kernel.machine.nodes[0]
    // Node 0 keeps its low watermark in the first pass: the rest goes to node 1 (distance 32).
    const pages = node0.pages - node0.wmarkLow + 100
    t.kernel.exec({ comm: 'big', size: pages * 4096, policy: { mode: 'local', cpu_node: 0 } })
    const stat = async (nid: number) =>
      (await get(`${NODE}/node${nid}/numastat`, true)).json().value
    expect(await stat(0)).toMatchObject({
      numa_hit: pages - 100,
      numa_foreign: 100,
      local_node: pages - 100,
    })
    expect(await stat(1)).toMatchObject({ numa_hit: 0, numa_miss: 100, other_node: 100 })
  })
})

describe('/sys/devices/system/node/nodeN/vmstat', () => {
  it('prints node_read_vmstat()’s items of 6.16 in order, as `name value`', async () => {
    execMixed()
    const r = await get(`${NODE}/node0/vmstat`)
    expect(r.statusCode).toBe(200)
    const lines = r.body.split('\n')
    expect(lines.map((l) => l.split(' ')[0])).toEqual([
      'nr_free_pages',
      'nr_free_pages_blocks',
      'nr_zone_inactive_anon',
      'nr_zone_active_anon',
      'nr_zone_inactive_file',
      'nr_zone_active_file',
      'nr_zone_unevictable',
      'nr_zone_write_pending',
      'nr_mlock',
      'nr_zspages',
      'nr_free_cma',
      'nr_unaccepted',
      'numa_hit',
      'numa_miss',
      'numa_foreign',
      'numa_interleave',
      'numa_local',
      'numa_other',
      'nr_inactive_anon',
      'nr_active_anon',
      'nr_inactive_file',
      'nr_active_file',
      'nr_unevictable',
      'nr_slab_reclaimable',
      'nr_slab_unreclaimable',
      'nr_isolated_anon',
      'nr_isolated_file',
      'workingset_nodes',
      'workingset_refault_anon',
      'workingset_refault_file',
      'workingset_activate_anon',
      'workingset_activate_file',
      'workingset_restore_anon',
      'workingset_restore_file',
      'workingset_nodereclaim',
      'nr_anon_pages',
      'nr_mapped',
      'nr_file_pages',
      'nr_dirty',
      'nr_writeback',
      'nr_writeback_temp',
      'nr_shmem',
      'nr_shmem_hugepages',
      'nr_shmem_pmdmapped',
      'nr_file_hugepages',
      'nr_file_pmdmapped',
      'nr_anon_transparent_hugepages',
      'nr_vmscan_write',
      'nr_vmscan_immediate_reclaim',
      'nr_dirtied',
      'nr_written',
      'nr_throttled_written',
      'nr_kernel_misc_reclaimable',
      'nr_foll_pin_acquired',
      'nr_foll_pin_released',
      'nr_kernel_stack',
      'nr_page_table_pages',
      'nr_sec_page_table_pages',
      'nr_iommu_pages',
      'nr_swapcached',
      'pgpromote_success',
      'pgpromote_candidate',
      'pgdemote_kswapd',
      'pgdemote_direct',
      'pgdemote_khugepaged',
      'pgdemote_proactive',
      'nr_hugetlb',
      'nr_balloon_pages',
      '',
    ])
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^[a-z_]+ \d+$/)
    const v = (await get(`${NODE}/node0/vmstat`, true)).json().value
    expect(v).toMatchObject({
      nr_free_pages: 16384 - 3584,
      nr_zone_active_anon: 2304,
      nr_zone_active_file: 256,
      nr_zone_unevictable: 256,
      nr_mlock: 256,
      numa_hit: 3584,
      numa_local: 3584,
      nr_active_anon: 2304,
      nr_active_file: 256,
      nr_unevictable: 256,
      nr_anon_pages: 2304,
      nr_mapped: 512,
      nr_file_pages: 512,
      nr_shmem: 256,
      nr_hugetlb: 512,
    })
  })

  it('counts promotions on the node they go to: /proc/vmstat holds the sums', async () => {
    t.kernel.exec({
      comm: 'hot',
      size: 16 * MiB,
      policy: { mode: 'bind', nodes: [2] },
      workload: { pattern: 'hotset', hot_fraction: 0.25, hot_access_fraction: 0.9 },
    })
    t.kernel.advance(20_000)
    const nodeStat = async (nid: number) =>
      (await get(`${NODE}/node${nid}/vmstat`, true)).json().value
    const perNode = await Promise.all([0, 1, 2].map(nodeStat))
    const global = (await get('/proc/vmstat', true)).json().value
    expect(global.pgpromote_success).toBeGreaterThan(0)
    // No top-tier access: the target is the sysfs target_node, 0.
    expect(perNode[0].pgpromote_success).toBe(global.pgpromote_success)
    for (const name of NODE_COUNTER_NAMES.filter((n) => n in global)) {
      expect(
        perNode.reduce((s, v) => s + v[name], 0),
        name,
      ).toBe(global[name])
    }
    // Each promoted page was allocated on node 0.
    expect(perNode[0].numa_hit).toBe(perNode[0].pgpromote_success)
  })
})

describe('/proc/vmstat', () => {
  it('prints every counter of 6.16 in order: node sums, dirty thresholds, then the events', async () => {
    execMixed()
    t.kernel.exec({ comm: 'il', size: 4 * MiB, policy: { mode: 'interleave', nodes: [1, 2] } })
    const names = (body: string) =>
      body
        .trimEnd()
        .split('\n')
        .map((l) => l.split(' ')[0])
    const lines = (await get('/proc/vmstat')).body.trimEnd().split('\n')
    for (const line of lines) expect(line).toMatch(/^[a-z0-9_]+ \d+$/)
    const all = lines.map((l) => l.split(' ')[0])
    // The zone items, NUMA events and node items: nodeN/vmstat's names, summed over the nodes.
    const perNode = names((await get(`${NODE}/node0/vmstat`)).body)
    expect(all.slice(0, perNode.length)).toEqual(perNode)
    const rest = all.slice(perNode.length)
    expect(rest.slice(0, 4)).toEqual([
      'nr_dirty_threshold',
      'nr_dirty_background_threshold',
      'nr_memmap_pages',
      'nr_memmap_boot_pages',
    ])
    expect(rest.slice(4, 23)).toEqual([
      'pgpgin',
      'pgpgout',
      'pswpin',
      'pswpout',
      'pgalloc_dma',
      'pgalloc_dma32',
      'pgalloc_normal',
      'pgalloc_movable',
      'pgalloc_device',
      'allocstall_dma',
      'allocstall_dma32',
      'allocstall_normal',
      'allocstall_movable',
      'allocstall_device',
      'pgskip_dma',
      'pgskip_dma32',
      'pgskip_normal',
      'pgskip_movable',
      'pgskip_device',
    ])
    // kscand's ten follow the NUMA-balancing events and precede the migration events.
    const at = rest.indexOf('numa_pte_updates')
    expect(rest.slice(at, at + 18)).toEqual([
      'numa_pte_updates',
      'numa_huge_pte_updates',
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
      'thp_migration_success',
    ])
    expect(rest.indexOf('pgscan_kswapd')).toBeLessThan(at)
    expect(rest.at(-1)).toBe('direct_map_level3_collapses')
    expect(new Set(all).size).toBe(all.length)
    const v = (await get('/proc/vmstat', true)).json().value
    // 3584 + 1024 pages allocated, all on the node asked for.
    expect(v).toMatchObject({
      nr_free_pages: 65536 - 4608,
      numa_hit: 4608,
      numa_miss: 0,
      numa_interleave: 1024,
      numa_local: 3584 + 512,
      numa_other: 512,
      pgalloc_normal: 4608,
      nr_anon_pages: 2304 + 1024,
      nr_hugetlb: 512,
      nr_memmap_boot_pages: 1024,
    })
    // dirtyable = free − Σhigh + file LRU; the thresholds are 20 % and 10 % of it.
    const dirtyable = 65536 - 4608 - 768 + 256
    expect(v.nr_dirty_threshold).toBe(Math.floor(dirtyable * 0.2))
    expect(v.nr_dirty_background_threshold).toBe(Math.floor(dirtyable * 0.1))
  })
})

describe('the node directory', () => {
  it('lists the node state files and, per node, its four files', async () => {
    expect((await get(NODE)).body).toBe(
      [
        'has_cpu',
        'has_generic_initiator',
        'has_memory',
        'has_normal_memory',
        'node0',
        'node1',
        'node2',
        'online',
        'possible',
        '',
      ].join('\n'),
    )
    expect((await get(`${NODE}/node1`)).body).toBe('distance\nmeminfo\nnumastat\nvmstat\n')
    expect((await get(`${NODE}/node1/`)).body).toBe('distance\nmeminfo\nnumastat\nvmstat\n')
    expect((await get(`${NODE}/possible`)).body).toBe('0-2\n')
    expect((await get(`${NODE}/has_normal_memory`)).body).toBe('0-2\n')
    // An empty node mask prints as an empty line (%*pbl of nothing).
    expect((await get(`${NODE}/has_generic_initiator`)).body).toBe('\n')
  })

  it('/proc lists meminfo beside vmstat and zoneinfo', async () => {
    const json = (await get('/proc', true)).json()
    expect(json.entries).toContainEqual({ name: 'meminfo', type: 'file' })
  })
})
