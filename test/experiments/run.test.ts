/**
 * Headless runs: the timeline's commands land at their virtual times with the effects the
 * HTTP routes have, a run lasts its duration or until every budget is spent, the series
 * has a row per interval, and the same scenario and seed give the same summary and trace.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../src/experiments/load.ts'
import { runInto, runScenario } from '../../src/experiments/run.ts'
import { MiB } from '../../src/kernel/constants.ts'
import { SMALL } from '../helpers/kernel.ts'
import { SMALL_PROCESS, tempDirs } from '../helpers/process.ts'

const dir = tempDirs()

const scenario = (doc: object) => parseScenario(JSON.stringify(doc), 'test.json')

const MACHINE = {
  topology: SMALL,
  processes: [
    SMALL_PROCESS,
    { ...SMALL_PROCESS, comm: 'hot', workload: { pattern: 'hotset', hot_fraction: 0.1 } },
  ],
}

const TIMELINE = [
  { at_ms: 3000, do: 'write', path: '/sys/kernel/mm/kscand/scan_sleep_ms', value: 50 },
  { at_ms: 4000, do: 'prctl', process: 'app', option: 'PR_SET_PTE_A_SCAN_SCALE', arg2: 2 },
  { at_ms: 5000, do: 'fork', process: 'app' },
  { at_ms: 6000, do: 'stop', thread: 'kmigrated' },
  { at_ms: 6500, do: 'shift', process: 'hot' },
  { at_ms: 7000, do: 'exit', process: 1000 },
  { at_ms: 8000, do: 'spawn', spec: { comm: 'late', size: 4 * MiB } },
]

describe('a headless run', () => {
  it('applies each command at its time, as the routes do', () => {
    const s = scenario({
      machine: MACHINE,
      timeline: TIMELINE,
      duration_ms: 10_000,
      record: { trace: { events: ['sysfs:sysfs_write'] } },
    })
    const out = dir()
    const { kernel, summary } = runInto(s, out)
    expect(kernel.now).toBe(10_000)
    expect(kernel.kscand.scan_sleep_ms).toBe(50)
    expect(kernel.thread('kmigrated').state).toBe('stopped')
    expect(kernel.processList().map((p) => `${p.pid} ${p.comm}`)).toEqual([
      '1001 hot',
      '1002 app',
      '1003 late',
    ])
    expect(kernel.processList()[0].phase).toBe(1)
    const exited = summary.processes.find((p) => p.pid === 1000)
    expect(exited).toMatchObject({ comm: 'app', exited_at_ms: 7000, pte_scan_scale: 2 })
    expect(summary.ended).toBe('duration')
    expect(readFileSync(`${out}/trace.txt`, 'utf8').split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(
        / 3\.000000: sysfs_write: path=\/sys\/kernel\/mm\/kscand\/scan_sleep_ms old=\d+ new=50$/,
      ),
      expect.stringMatching(
        / 4\.000000: sysfs_write: path=\/processes\/1000\/pte_scan_scale old=8 new=2$/,
      ),
      expect.stringMatching(
        / 5\.000000: sysfs_write: path=\/processes\/1000\/fork old=- new=pid=1002 comm=app$/,
      ),
      expect.stringMatching(
        / 6\.000000: sysfs_write: path=\/threads\/kmigrated old=\w+ new=stopped$/,
      ),
      expect.stringMatching(
        / 6\.500000: sysfs_write: path=\/processes\/1001\/workload old=hot set new=shifted$/,
      ),
      expect.stringMatching(
        / 7\.000000: sysfs_write: path=\/processes\/1000 old=pid=1000 comm=app new=exited$/,
      ),
      expect.stringMatching(
        / 8\.000000: sysfs_write: path=\/processes old=- new=pid=1003 comm=late$/,
      ),
    ])
  })

  it('emits a note as its write line at its time, changing nothing simulated', () => {
    const events = ['kmem:kmem_scan_mm_end', 'kmem:kmem_scan_mm_migrate', 'sysfs:sysfs_write']
    const note = { at_ms: 1500, do: 'note', path: '/sim', old: 'paused x1', new: 'afap x1' }
    const [plain, noted] = [[], [note]].map((timeline) => {
      const out = dir()
      const { summary } = runInto(
        scenario({ machine: MACHINE, timeline, duration_ms: 3000, record: { trace: { events } } }),
        out,
      )
      const trace = readFileSync(`${out}/trace.txt`, 'utf8').split('\n')
      return { processes: summary.processes, series: readFileSync(`${out}/series.csv`), trace }
    })
    const line = noted.trace.findIndex((l) => l.includes('sysfs_write'))
    expect(noted.trace[line]).toMatch(
      / 1\.500000: sysfs_write: path=\/sim old=paused x1 new=afap x1$/,
    )
    expect(noted.trace.filter((_, i) => i !== line)).toEqual(plain.trace)
    expect(plain.trace.length).toBeGreaterThan(10)
    expect(noted.processes).toEqual(plain.processes)
    expect(noted.series).toEqual(plain.series)
  })

  it('stops at the first command the kernel refuses, naming it', () => {
    const s = scenario({
      machine: MACHINE,
      timeline: [{ at_ms: 2000, do: 'stop', thread: 'kswapd0' }],
      duration_ms: 5000,
    })
    expect(() => runScenario(s)).toThrow(
      'scenario test: timeline[0] (stop at 2000 ms): kswapd0 cannot be stopped from userspace',
    )
    const bad = scenario({
      machine: MACHINE,
      timeline: [{ at_ms: 1, do: 'write', path: '/proc/vmstat', value: 1 }],
      duration_ms: 5,
    })
    expect(() => runScenario(bad)).toThrow('timeline[0] (write at 1 ms): /proc/vmstat is read-only')
  })

  it('writes a series row per interval, a process column empty where it did not exist', () => {
    const s = scenario({
      machine: MACHINE,
      timeline: TIMELINE,
      duration_ms: 10_000,
      record: { series_interval_ms: 500 },
    })
    const out = dir()
    runInto(s, out)
    const [head, ...rows] = readFileSync(`${out}/series.csv`, 'utf8').trimEnd().split('\n')
    const columns = head.split(',')
    expect(rows).toHaveLength(21)
    expect(rows.map((r) => Number(r.split(',')[0]))).toEqual(
      Array.from({ length: 21 }, (_, i) => i / 2),
    )
    expect(columns).toContain('promotions_per_s')
    const late = columns.indexOf('late:1003:top_pages')
    const app = columns.indexOf('app:1000:hit_ratio')
    expect(late).toBeGreaterThan(0)
    const at = (t: number) => rows[t * 2].split(',')
    expect(at(7.5)[late]).toBe('')
    expect(Number(at(8)[late])).toBeGreaterThan(0)
    expect(Number(at(6)[app])).toBeGreaterThan(0)
    expect(at(7)[app]).toBe('')
  })

  it('runs until every closed-loop budget is spent', () => {
    const s = scenario({
      machine: {
        topology: SMALL,
        processes: [
          {
            comm: 'loop',
            size: 8 * MiB,
            closed_loop: { threads: 4, think_ns: 1000, accesses: 2_000_000 },
          },
        ],
      },
      duration_ms: 'until_budgets_spent',
    })
    const { summary } = runScenario(s)
    const loop = summary.processes[0]
    expect(summary.ended).toBe('budgets_spent')
    expect(loop.accesses_done).toBe(2_000_000)
    expect(loop.time_to_finish_ms).toBeGreaterThan(0)
    expect(summary.virtual_ms).toBeGreaterThanOrEqual(loop.time_to_finish_ms as number)
    expect(summary.virtual_ms).toBeLessThan((loop.time_to_finish_ms as number) + 2000)
  })

  it('gives the same summary.json and trace for the same scenario and seed', () => {
    const s = scenario({
      seed: 9,
      machine: { ...MACHINE, processes: [{ ...SMALL_PROCESS, size: 64 * MiB }] },
      timeline: TIMELINE.slice(0, 4),
      duration_ms: 10_000,
      record: {
        trace: {
          format: 'json',
          events: ['kmem:kmem_scan_mm_end', 'kmem:kmem_scan_mm_migrate', 'sysfs:sysfs_write'],
        },
      },
    })
    const outputs = [dir(), dir()].map((out) => {
      runInto(s, out)
      return ['summary.json', 'trace.jsonl'].map((f) => readFileSync(`${out}/${f}`, 'utf8'))
    })
    expect(outputs[0][1].split('\n').length).toBeGreaterThan(100)
    expect(outputs[1]).toEqual(outputs[0])
    const other = dir()
    runInto({ ...s, seed: 10 }, other)
    expect(readFileSync(`${other}/trace.jsonl`, 'utf8')).not.toBe(outputs[0][1])
    expect(JSON.parse(outputs[0][0]).processes[0]).toMatchObject({
      comm: 'app',
      pages: (64 * MiB) / 4096,
    })
  })
})
