/**
 * Bounded everything (issue 10, findings 4 and 6), on a real server: a write that would
 * take the state past what the loader reads is refused (ENOSPC at MAX_PROCESSES, E2BIG
 * past the file's size) and changes nothing, and the state written at every limit boots;
 * /metrics stays small at 4 096 processes; text tables render any row count.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type MachineState, StateFile } from '../../src/host/state-file.ts'
import { columns } from '../../src/http/representation.ts'
import { MAX_PROCESSES } from '../../src/kernel/constants.ts'
import { runToExit, smallConfigFile, TOKEN } from '../helpers/process.ts'
import { call, dir, start, tinyProcess, wideProcess } from './state-helpers.ts'

const state = (specs: MachineState['processes'][number]['spec'][]): MachineState => ({
  tunables: {},
  threads: {},
  processes: specs.map((spec) => ({ spec, pte_scan_scale: 8 })),
})
const pids = async (url: string) =>
  ((await call(`${url}/processes`, 'GET')).body as { pid: number }[]).map((p) => p.pid)

describe('MAX_PROCESSES', () => {
  it('refuses the process past the limit with ENOSPC; the state at the limit boots', async () => {
    const d = dir()
    const stateFile = join(d, 'state.json')
    const tiny = Array.from({ length: MAX_PROCESSES - 1 }, (_, i) => tinyProcess(`t${i}`))
    new StateFile(stateFile).save(state(tiny))
    const { srv } = await start({}, d)
    const last = await call(`${srv.url}/processes`, 'POST', tinyProcess('last'))
    expect(last.status).toBe(201)

    const over = await call(`${srv.url}/processes`, 'POST', tinyProcess('over'))
    expect(over.status).toBe(507)
    expect(over.body).toMatchObject({ code: 'ENOSPC', errno: 28 })
    const fork = await call(`${srv.url}/processes/${last.body.pid}/fork`, 'POST')
    expect(fork.status).toBe(507)
    expect(fork.body.code).toBe('ENOSPC')
    expect(await pids(srv.url)).toHaveLength(MAX_PROCESSES)
    expect(new StateFile(stateFile).load()?.processes).toHaveLength(MAX_PROCESSES)

    // /metrics at 4 096 processes: per-process series for the first 256, a count of the rest.
    await fetch(`${srv.url}/metrics`)
    const t = performance.now()
    const metrics = await (await fetch(`${srv.url}/metrics`)).text()
    const took = performance.now() - t
    expect(metrics).toMatch(/^kscand_sim_processes_omitted 3840$/m)
    expect(metrics.length).toBeLessThan(400_000)
    expect(metrics.match(/^kscand_sim_process_pte_scan_scale\{/gm)).toHaveLength(256)
    console.log(
      `/metrics at ${MAX_PROCESSES} processes: ${metrics.length} bytes, ${took.toFixed(0)} ms`,
    )

    srv.child.kill('SIGKILL')
    await srv.exited
    const again = await start({}, d)
    expect(await pids(again.srv.url)).toHaveLength(MAX_PROCESSES)
  })

  it('is configurable, and a state holding more than it stops the boot with one line', async () => {
    const d = dir()
    const { srv, stateFile } = await start({ MAX_PROCESSES: '2' }, d)
    expect((await call(`${srv.url}/processes`, 'POST', tinyProcess('two'))).status).toBe(201)
    expect((await call(`${srv.url}/processes`, 'POST', tinyProcess('three'))).status).toBe(507)
    srv.child.kill('SIGKILL')
    await srv.exited
    const r = await runToExit({
      CONFIG_FILE: smallConfigFile(d),
      STATE_FILE: stateFile,
      KSCAND_SIM_TOKEN: TOKEN,
      MAX_PROCESSES: '1',
    })
    expect(r.code).toBe(2)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/state file .*: processes\[1\]: 1 processes: the most there can be/)
  })
})

describe('MAX_VMAS and the size of the state file', () => {
  it('refuses a process with more VMAs than MAX_VMAS with E2BIG', async () => {
    const { srv } = await start({ MAX_VMAS: '8' })
    const before = await pids(srv.url)
    const vmas = (n: number) => Array.from({ length: n }, () => ({ kind: 'anon', size: 4096 }))
    const nine = await call(`${srv.url}/processes`, 'POST', { comm: 'nine', vmas: vmas(9) })
    expect(nine.status).toBe(413)
    expect(nine.body).toMatchObject({ code: 'E2BIG', errno: 7 })
    expect(nine.body.detail).toBe('9 VMAs; a process may have 8')
    expect(await pids(srv.url)).toEqual(before)
    expect((await call(`${srv.url}/processes`, 'POST', { comm: 'e', vmas: vmas(8) })).status).toBe(
      201,
    )
  })

  it('refuses the process whose record would not fit with E2BIG; the full state boots', async () => {
    const d = dir()
    const stateFile = join(d, 'state.json')
    // 140 processes of 4096 VMAs: about 16.1 MB, a few records short of the 16 MiB.
    new StateFile(stateFile).save(
      state(Array.from({ length: 140 }, (_, i) => wideProcess(`w${i}`))),
    )
    const demo = join(d, 'demo.json')
    writeFileSync(demo, '{}')
    const { srv } = await start({ CONFIG_FILE: demo }, d)
    let answer = await call(`${srv.url}/processes`, 'POST', wideProcess('more'))
    for (let i = 0; answer.status === 201 && i < 20; i++) {
      answer = await call(`${srv.url}/processes`, 'POST', wideProcess(`more${i}`))
    }
    expect(answer.status).toBe(413)
    expect(answer.body).toMatchObject({ code: 'E2BIG' })
    expect(answer.body.detail).toMatch(/^the state file would outgrow 16777216 bytes/)
    const count = (await pids(srv.url)).length
    expect(count).toBeGreaterThan(140)
    // Forks are refused alike; the file holds every process, and boots.
    const fork = await call(`${srv.url}/processes/1000/fork`, 'POST')
    expect(fork.status).toBe(413)
    expect(new StateFile(stateFile).load()?.processes).toHaveLength(count)
    srv.child.kill('SIGKILL')
    await srv.exited
    const again = await start({ CONFIG_FILE: demo }, d)
    expect(await pids(again.srv.url)).toHaveLength(count)
  })
})

describe('text tables', () => {
  it('render 130 000 rows (Math.max over a spread overflowed the stack past ~126 k)', () => {
    const rows = Array.from({ length: 130_000 }, (_, i) => [
      String(i),
      i % 7 === 0 ? 'long-name' : 'x',
    ])
    const text = columns([['PID', 'COMM'], ...rows])
    const lines = text.split('\n')
    expect(lines).toHaveLength(130_002)
    expect(lines[0]).toBe('PID    COMM')
    expect(lines[130_000]).toBe('129999 x')
  })
})
