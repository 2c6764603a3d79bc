/**
 * Sweeps: a matrix expands into its cells in the documented order with stable ids, each cell
 * the base scenario with its values set at boot; bad matrices are one line naming the key; a
 * shard takes the cells with index % N == I − 1; N shards merged give the unsharded run's
 * files byte for byte; a pool of two workers writes what one job writes; a cell's
 * scenario.json run alone gives the cell's outputs.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { POLICIES, runPolicy } from '../../scripts/compare-promoters.ts'
import { mergeCommand, runCommand } from '../../src/experiments/cli.ts'
import { loadScenario, parseScenario } from '../../src/experiments/load.ts'
import { expandMatrix, parseShard, shardCells } from '../../src/experiments/matrix.ts'
import { runInto, runScenario } from '../../src/experiments/run.ts'
import { mergeSweeps, runSweep } from '../../src/experiments/sweep.ts'
import { SMALL } from '../helpers/kernel.ts'
import { ROOT, SMALL_PROCESS, tempDirs, thrownMessage } from '../helpers/process.ts'

const tmp = tempDirs()

const BASE = {
  name: 'sweep',
  seed: 5,
  machine: {
    topology: SMALL,
    processes: [{ ...SMALL_PROCESS, access_rate: 200_000 }],
    tunables: { '/sys/kernel/mm/kscand/mm_scan_period_ms': 500 },
  },
  duration_ms: 2000,
  record: { series_interval_ms: 500, trace: { events: ['sysfs:sysfs_write'] } },
}

const MATRIX = {
  policy: ['kscand', 'numab2'],
  scan_sleep_ms: [5, 40],
  '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot': [1, 0],
}

const scenario = (doc: object) => parseScenario(JSON.stringify(doc), 'sweep.json')
const withMatrix = (matrix: object) => {
  const s = scenario({ ...BASE, matrix })
  return { ...s, matrix: s.matrix! }
}
const cellsOf = (matrix: object) => expandMatrix(withMatrix(matrix), 'sweep.json')

const error = thrownMessage

/** Every file under `dir`, by path relative to it, with its bytes. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out[relative(dir, p)] = readFileSync(p, 'utf8')
    }
  }
  walk(dir)
  return out
}

describe('a matrix', () => {
  it('expands into the product, the first key varying slowest, with stable ids', () => {
    const cells = cellsOf(MATRIX)
    const q = '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot'
    expect(cells.map((c) => c.id)).toEqual([
      `policy=kscand,scan_sleep_ms=5,${q}=1`,
      `policy=kscand,scan_sleep_ms=5,${q}=0`,
      `policy=kscand,scan_sleep_ms=40,${q}=1`,
      `policy=kscand,scan_sleep_ms=40,${q}=0`,
      `policy=numab2,scan_sleep_ms=5,${q}=1`,
      `policy=numab2,scan_sleep_ms=5,${q}=0`,
      `policy=numab2,scan_sleep_ms=40,${q}=1`,
      `policy=numab2,scan_sleep_ms=40,${q}=0`,
    ])
    expect(cells.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(cells[0].dir).toBe(
      'policy=kscand,scan_sleep_ms=5,%2Fsys%2Fkernel%2Fmm%2Fkmigrated%2Fquirks%2Fkmigrated_sticky_slot=1',
    )
  })

  it("sets each cell's values at boot, over the base's tunables, and takes no matrix along", () => {
    const [, , , , numab2] = cellsOf(MATRIX)
    expect(numab2.scenario.matrix).toBeUndefined()
    expect(numab2.scenario.machine.tunables).toEqual({
      '/sys/kernel/mm/kscand/mm_scan_period_ms': 500,
      '/proc/sys/kernel/numa_balancing': 2,
      '/sys/kernel/mm/kscand/scan_enabled': 0,
      '/sys/kernel/mm/kscand/scan_sleep_ms': 5,
      '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot': 1,
    })
    expect(numab2.scenario.seed).toBe(5)
    const seeds = cellsOf({ seed: [1, 2], 'quirks.kmigrated_sticky_slot': [0] })
    expect(seeds.map((c) => [c.id, c.scenario.seed])).toEqual([
      ['seed=1,quirks.kmigrated_sticky_slot=0', 1],
      ['seed=2,quirks.kmigrated_sticky_slot=0', 2],
    ])
    expect(seeds[0].scenario.machine.tunables).toMatchObject({
      '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot': 0,
    })
  })

  it("leaves kscand's scan as booted under a policy with kscand, and turns it off without", () => {
    const s = scenario({
      ...BASE,
      machine: { ...BASE.machine, tunables: { '/sys/kernel/mm/kscand/scan_enabled': 0 } },
      matrix: { policy: ['numab1+kscand', 'numab1'] },
    })
    const [both, numab1] = expandMatrix({ ...s, matrix: s.matrix! }, 'sweep.json')
    expect(both.scenario.machine.tunables).toEqual({ '/proc/sys/kernel/numa_balancing': 1 })
    expect(numab1.scenario.machine.tunables).toEqual({
      '/sys/kernel/mm/kscand/scan_enabled': 0,
      '/proc/sys/kernel/numa_balancing': 1,
    })
  })

  it("gives npm run compare's times for its policies on the abench machine", () => {
    const s = loadScenario(join(ROOT, 'examples/abench.yaml'))
    const cells = expandMatrix({ ...s, matrix: { policy: ['numab1+kscand', 'none'] } }, 'abench')
    const [withKscand, none] = [POLICIES[2], POLICIES[3]]
    expect([withKscand.name, none.name]).toEqual(['NUMAB1 + kscand', 'none'])
    for (const [cell, policy] of [
      [cells[0], withKscand],
      [cells[1], none],
    ] as const) {
      const { summary } = runScenario(cell.scenario)
      const [compared] = runPolicy(join(ROOT, 'examples/abench.json'), policy)
      expect((summary.processes[0].time_to_finish_ms as number) / 1000, cell.id).toBe(
        compared.seconds,
      )
    }
  })

  it('is refused in one line naming the key', () => {
    const big = {
      policy: ['kscand', 'none'],
      scan_sleep_ms: Array.from({ length: 200 }, (_, i) => i),
    }
    expect(error(() => withMatrix(big))).toBe(
      'sweep.json: matrix.scan_sleep_ms: the matrix has 2 × 200 = 400 cells; at most 256',
    )
    expect(error(() => withMatrix({ policy: ['kscand', 'numab3'] }))).toMatch(
      /^sweep\.json: matrix\.policy\[1\]: Invalid option/,
    )
    expect(error(() => withMatrix({ scan_sleep_ms: [5, 5] }))).toBe(
      'sweep.json: matrix.scan_sleep_ms[1]: 5 is also [0]',
    )
    expect(error(() => cellsOf({ scan_sleep: [5] }))).toBe(
      'sweep.json: matrix.scan_sleep: names no writable sysfs or procfs file (give its path, or a tail of it)',
    )
    expect(error(() => cellsOf({ '/proc/vmstat': [1] }))).toBe(
      'sweep.json: matrix./proc/vmstat: not a writable sysfs or procfs file',
    )
    expect(error(() => cellsOf({ scan_sleep_ms: [5, 'soon'] }))).toMatch(
      /^sweep\.json: matrix\.scan_sleep_ms\[1\]: soon: /,
    )
    const noCpus = scenario({
      ...BASE,
      machine: { topology: { nodes: [{ capacity: 4096, cpus: false }] } },
      matrix: { policy: ['none'] },
    })
    expect(error(() => expandMatrix({ ...noCpus, matrix: noCpus.matrix! }, 'sweep.json'))).toBe(
      'sweep.json: machine.topology: the topology needs at least one node with cpus',
    )
    expect(error(() => cellsOf({ policy: ['none'], numa_balancing: [1] }))).toBe(
      'sweep.json: matrix.numa_balancing: sets /proc/sys/kernel/numa_balancing, as matrix.policy does',
    )
  })
})

describe('shards', () => {
  it('take the cells with index % N == I − 1', () => {
    const cells = cellsOf(MATRIX)
    expect(shardCells(cells, parseShard('1/3')).map((c) => c.index)).toEqual([0, 3, 6])
    expect(shardCells(cells, parseShard('3/3')).map((c) => c.index)).toEqual([2, 5])
    expect(shardCells(cells, null)).toHaveLength(8)
    for (const bad of ['0/3', '4/3', '1', 'a/b', '1/3/4']) {
      expect(error(() => parseShard(bad))).toBe(
        `--shard ${bad}: give I/N with 1 ≤ I ≤ N (--shard 2/4)`,
      )
    }
  })

  it('merge into the unsharded run, byte for byte', async () => {
    const s = withMatrix(MATRIX)
    const cells = expandMatrix(s, 'sweep.json')
    const whole = tmp()
    await runSweep(s, cells, whole, { jobs: 1, shard: null })
    const root = tmp()
    const shards = ['1/3', '2/3', '3/3'].map((t, i) => ({ t, dir: join(root, `shard-${i}`) }))
    for (const { t, dir } of shards) {
      const written = await runSweep(s, cells, dir, { jobs: 1, shard: parseShard(t) })
      expect(written).toEqual([join(dir, 'sweep.json')])
    }
    const merged = join(root, 'merged')
    mergeSweeps(
      shards.map((x) => x.dir),
      merged,
    )
    const want = files(whole)
    expect(Object.keys(want)).toContain('comparison.csv')
    expect(Object.keys(want)).toContain('comparison.html')
    expect(Object.keys(want).filter((f) => f.endsWith('summary.json'))).toHaveLength(8)
    expect(files(merged)).toEqual(want)

    // The page stands alone: no script, nothing to fetch; a row per cell, linking its summary.
    const html = want['comparison.html']
    expect(html).not.toMatch(/<script|https?:|src=/)
    for (const c of cells) expect(html).toContain(`>${c.id}</a>`)
    expect(html).toContain(`href="cells/${encodeURI(cells[0].dir)}/summary.json"`)
    const csv = want['comparison.csv'].trimEnd().split('\n')
    expect(csv).toHaveLength(1 + 8)
    expect(csv[0]).toMatch(
      /^cell,policy,scan_sleep_ms,\/sys\/kernel\/mm\/kmigrated\/quirks\/kmigrated_sticky_slot,ended,virtual_ms,pid,comm,.*top_tier_hit_ratio,.*promotions,demotions,hint_faults,.*kscand_cpu_ns,kmigrated_cpu_ns/,
    )
    expect(csv[1].startsWith('"policy=kscand,scan_sleep_ms=5,')).toBe(true)
    // kscand promotes, NUMAB2 with kscand's scan off does not scan with kscand at all.
    const kscandCpu = csv[0].split(',').indexOf('kscand_cpu_ns')
    const col = (line: string) => Number(line.split('",')[1].split(',')[kscandCpu - 1])
    expect(col(csv[1])).toBeGreaterThan(0)
    expect(col(csv[5])).toBe(0)
  })

  it('merge only a whole sweep, each cell once', async () => {
    const s = withMatrix({ policy: ['kscand', 'none'] })
    const cells = expandMatrix(s, 'sweep.json')
    const a = tmp()
    const b = tmp()
    await runSweep(s, cells, a, { jobs: 1, shard: parseShard('1/2') })
    expect(error(() => mergeSweeps([a], tmp()))).toBe('cell 1 is in none of the folders given')
    expect(error(() => mergeSweeps([a, a], tmp()))).toBe(
      `cell 0 (policy=kscand) is in both ${a} and ${a}`,
    )
    const other = withMatrix({ policy: ['kscand', 'numab2'] })
    await runSweep(other, expandMatrix(other, 'sweep.json'), b, {
      jobs: 1,
      shard: parseShard('2/2'),
    })
    expect(error(() => mergeSweeps([a, b], tmp()))).toBe(`${b}: a shard of another sweep than ${a}`)
  })
})

describe('the pool', () => {
  it('with two workers writes what one job writes; a cell alone gives the same', async () => {
    const s = withMatrix({ policy: ['kscand', 'numab1+kscand', 'none'] })
    const cells = expandMatrix(s, 'sweep.json')
    const one = tmp()
    const two = tmp()
    await runSweep(s, cells, one, { jobs: 1, shard: null })
    const done: string[] = []
    await runSweep(s, cells, two, { jobs: 2, shard: null, onDone: (c) => done.push(c.id) })
    expect(done.sort()).toEqual(cells.map((c) => c.id).sort())
    const want = files(one)
    expect(files(two)).toEqual(want)

    // The cell's scenario.json, run as a scenario of its own.
    const cellDir = join(one, 'cells', 'policy=none')
    const alone = tmp()
    runInto(loadScenario(join(cellDir, 'scenario.json')), alone)
    for (const f of ['summary.json', 'series.csv', 'trace.txt']) {
      expect(readFileSync(join(alone, f), 'utf8'), f).toBe(want[`cells/policy=none/${f}`])
    }
  })
})

describe('a refused command in a cell', () => {
  it('stops the pool and reaches the command line as its one line', async () => {
    const cwd = tmp()
    writeFileSync(
      join(cwd, 'bad.json'),
      JSON.stringify({
        ...BASE,
        matrix: { policy: ['kscand', 'none', 'numab2'] },
        timeline: [{ at_ms: 1000, do: 'stop', thread: 'kswapd0' }],
      }),
    )
    let err = ''
    const io = { cwd, stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } }
    expect(await runCommand(['bad.json', '--jobs', '2'], io)).toBe(2)
    expect(err.trimEnd().split('\n').at(-1)).toBe(
      'kscand-sim run: scenario sweep: timeline[0] (stop at 1000 ms): kswapd0 cannot be stopped from userspace',
    )
  })
})

describe('the command line', () => {
  it('runs shards and merges them into the table of the whole run', async () => {
    const cwd = tmp()
    writeFileSync(
      join(cwd, 's.json'),
      JSON.stringify({ ...BASE, matrix: { policy: ['kscand', 'none'] } }),
    )
    let out = ''
    let err = ''
    const io = {
      cwd,
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    }
    expect(await runCommand(['s.json', '--out', 'all', '--jobs', '1'], io)).toBe(0)
    expect(out).toContain('policy=kscand: top-tier hit app ')
    expect(out).toContain('wrote all/comparison.csv\n')
    expect(err).toContain(
      'kscand-sim run: sweep: 2 of 2 cells, 1 worker, each up to 2.0 s virtual\n',
    )
    for (const i of [1, 2]) {
      expect(await runCommand(['s.json', '--out', `shard-${i}`, '--shard', `${i}/2`], io)).toBe(0)
    }
    expect(out).toContain("shard 2/2: merge the shards' folders with kscand-sim merge\n")
    expect(mergeCommand(['shard-1', 'shard-2', '--out', 'merged'], io)).toBe(0)
    expect(readFileSync(join(cwd, 'merged/comparison.csv'), 'utf8')).toBe(
      readFileSync(join(cwd, 'all/comparison.csv'), 'utf8'),
    )
    err = ''
    expect(await runCommand(['s.json', '--jobs', '0'], io)).toBe(2)
    expect(err.split('\n')[0]).toBe('kscand-sim run: --jobs 0: give 1 to 256')
    err = ''
    writeFileSync(join(cwd, 'plain.json'), JSON.stringify(BASE))
    expect(await runCommand(['plain.json', '--shard', '1/2'], io)).toBe(2)
    expect(err).toBe('kscand-sim run: --shard: plain.json has no matrix to shard\n')
    err = ''
    expect(mergeCommand(['all'], io)).toBe(2)
    expect(err.split('\n')[0]).toBe("kscand-sim merge: give the shards' folders and --out DIR")
  })
})
