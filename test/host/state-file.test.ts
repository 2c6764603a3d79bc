/** The state file: atomic saves, validation at load, restore at boot, and the save hook. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BootError, boot } from '../../src/host/boot.ts'
import { type MachineState, StateFile, StateFileError } from '../../src/host/state-file.ts'
import { buildOps, SMALL_MACHINE, SMALL_PROCESS, TOKEN, tempDirs } from '../helpers/process.ts'

const SLEEP = '/sys/kernel/mm/kscand/scan_sleep_ms'
const AUTH = { authorization: `Bearer ${TOKEN}` }

const dir = tempDirs()

const STATE: MachineState = {
  tunables: { [SLEEP]: '150', '/sys/kernel/mm/numa/demotion_enabled': 'false' },
  threads: { kscand: 'running', kmigrated: 'stopped', kswapd0: 'running', kswapd1: 'running' },
  processes: [
    { spec: SMALL_PROCESS, pte_scan_scale: 3 },
    { spec: { ...SMALL_PROCESS, comm: 'second' }, pte_scan_scale: 8 },
  ],
}

function bootWith(stateFile: string, onCorrupt: 'refuse' | 'move-aside' = 'refuse') {
  return boot({
    seed: 7,
    machine: SMALL_MACHINE,
    machineSource: 'test machine',
    stateFile,
    onCorrupt,
  })
}

describe('StateFile', () => {
  it('saves atomically: the file holds the document, no temporary file is left', () => {
    const path = join(dir(), 'state.json')
    const f = new StateFile(path)
    expect(f.load()).toBeNull()
    expect(f.save(STATE)).toBe(true)
    const doc = JSON.parse(readFileSync(path, 'utf8'))
    expect(doc).toMatchObject({ format: 'kscand-sim-state', version: 2, state: STATE })
    expect(readdirSync(join(path, '..'))).toEqual(['state.json'])
    expect(new StateFile(path).load()).toEqual(STATE)
  })

  it('skips a save that would not change the file', () => {
    const path = join(dir(), 'state.json')
    const f = new StateFile(path)
    expect(f.save(STATE)).toBe(true)
    expect(f.save(structuredClone(STATE))).toBe(false)
    expect(f.save({ ...STATE, tunables: {} })).toBe(true)
  })

  it.each([
    ['truncated JSON', '{"format":"kscand-sim-state","ver', /is corrupt: not JSON/],
    ['empty', '', /is corrupt: not JSON/],
    ['another format', '{"format":"x","version":1}', /is corrupt: format: Invalid input/],
    [
      'a newer version',
      JSON.stringify({ format: 'kscand-sim-state', version: 3, saved_at: '', state: STATE }),
      /is corrupt: version: Invalid input: expected 2/,
    ],
    [
      'a bad tunable value',
      JSON.stringify({
        format: 'kscand-sim-state',
        version: 2,
        saved_at: new Date().toISOString(),
        state: { ...STATE, threads: { kscand: 'dancing' } },
      }),
      /is corrupt: state\.threads\.kscand: Invalid option/,
    ],
    [
      'a version 2 file with a camelCase key',
      JSON.stringify({
        format: 'kscand-sim-state',
        version: 2,
        saved_at: new Date().toISOString(),
        state: {
          ...STATE,
          processes: [{ spec: { ...SMALL_PROCESS, accessRate: 5 }, pte_scan_scale: 8 }],
        },
      }),
      /is corrupt: state\.processes\[0\]\.spec: Unrecognized key: "accessRate"/,
    ],
    [
      'a version 1 file with a key version 1 did not have',
      JSON.stringify({
        format: 'kscand-sim-state',
        version: 1,
        savedAt: new Date().toISOString(),
        state: {
          ...STATE,
          processes: [{ spec: { ...SMALL_PROCESS, accessrate: 5 }, pte_scan_scale: 8 }],
        },
      }),
      /is corrupt: state\.processes\[0\]\.spec: Unrecognized key: "accessrate"/,
    ],
  ])('refuses %s with a message saying why', (_what, text, message) => {
    const path = join(dir(), 'state.json')
    writeFileSync(path, text)
    const err = (() => {
      try {
        new StateFile(path).load()
      } catch (e) {
        return e as StateFileError
      }
    })()
    expect(err).toBeInstanceOf(StateFileError)
    expect(err?.kind).toBe('corrupt')
    expect(err?.message).toMatch(message)
    expect(err?.message).toContain(path)
  })

  it('migrates a version 1 file, written with camelCase keys, to the same state', () => {
    const path = join(dir(), 'state.json')
    const v1 = {
      format: 'kscand-sim-state',
      version: 1,
      savedAt: '2026-01-01T00:00:00.000Z',
      state: {
        ...STATE,
        processes: [
          {
            spec: {
              comm: 'hot',
              size: 16 * 4096,
              policy: { mode: 'local', cpuNode: 0, memNode: 1 },
              workload: {
                pattern: 'hotset',
                hotFraction: 0.1,
                hotAccessFraction: 0.8,
                shiftAtMs: 100,
                shiftFraction: 0.5,
              },
              accessRate: 1000,
            },
            pte_scan_scale: 3,
          },
          {
            spec: {
              comm: 'loop',
              size: 16 * 4096,
              closedLoop: { threads: 2, thinkNs: 10, accesses: 100 },
            },
            pte_scan_scale: 8,
          },
        ],
      },
    }
    writeFileSync(path, JSON.stringify(v1))
    expect(new StateFile(path).load()).toEqual({
      ...STATE,
      processes: [
        {
          spec: {
            comm: 'hot',
            size: 16 * 4096,
            policy: { mode: 'local', cpu_node: 0, mem_node: 1 },
            workload: {
              pattern: 'hotset',
              hot_fraction: 0.1,
              hot_access_fraction: 0.8,
              shift_at_ms: 100,
              shift_fraction: 0.5,
            },
            access_rate: 1000,
          },
          pte_scan_scale: 3,
        },
        {
          spec: {
            comm: 'loop',
            size: 16 * 4096,
            closed_loop: { threads: 2, think_ns: 10, accesses: 100 },
          },
          pte_scan_scale: 8,
        },
      ],
    })
  })

  it('calls a path it cannot read unreadable', () => {
    const path = join(dir(), 'state.json')
    mkdirSync(path)
    expect(() => new StateFile(path).load()).toThrow(/is unreadable: EISDIR/)
  })
})

describe('boot with a state file', () => {
  it('creates the file at boot and restores tunables, stopped threads and processes', () => {
    const path = join(dir(), 'state.json')
    const first = bootWith(path)
    expect(first.state).toBe('new')
    expect(existsSync(path)).toBe(true)

    new StateFile(path).save(STATE)
    const { kernel, state } = bootWith(path)
    expect(state).toBe('restored')
    expect(kernel.kscand.scan_sleep_ms).toBe(150)
    expect(kernel.demotion_enabled).toBe(false)
    expect(kernel.thread('kmigrated').state).toBe('stopped')
    expect(kernel.thread('kscand').state).not.toBe('stopped')
    expect(kernel.processList().map((p) => [p.comm, p.mm.pte_scan_scale])).toEqual([
      ['app', 3],
      ['second', 8],
    ])
  })

  it('refuses a corrupt file with one line that says what to do', () => {
    const path = join(dir(), 'state.json')
    writeFileSync(path, '{"format":')
    expect(() => bootWith(path)).toThrow(BootError)
    expect(() => bootWith(path)).toThrow(
      `state file ${path} is corrupt: not JSON (Unexpected end of JSON input); fix or remove ` +
        'it, or set STATE_FILE_ON_CORRUPT=move-aside to start afresh',
    )
    expect(readFileSync(path, 'utf8')).toBe('{"format":')
  })

  it('moves a corrupt file aside only when told to, and starts afresh', () => {
    const d = dir()
    const path = join(d, 'state.json')
    writeFileSync(path, 'garbage')
    const { kernel, state } = bootWith(path, 'move-aside')
    expect(state).toMatchObject({ movedAside: expect.stringMatching(/state\.json\.corrupt-/) })
    const aside = (state as { movedAside: string }).movedAside
    expect(readFileSync(aside, 'utf8')).toBe('garbage')
    expect(new StateFile(path).load()?.processes).toHaveLength(1)
    expect(kernel.processList()).toHaveLength(1)
  })

  it('names the entry a valid file cannot apply to this machine', () => {
    const path = join(dir(), 'state.json')
    new StateFile(path).save({ ...STATE, threads: { kswapd7: 'stopped' } })
    expect(() => bootWith(path)).toThrow(
      `state file ${path}: threads.kswapd7: no such kernel thread: kswapd7`,
    )
    new StateFile(path).save({ ...STATE, tunables: { [SLEEP]: 'many' } })
    expect(() => bootWith(path)).toThrow(
      new RegExp(`state file ${path}: tunables\\["${SLEEP}"\\]: .*kstrtouint\\("many"\\)`),
    )
  })
})

describe('saving on every accepted write', () => {
  const saved = (path: string) => new StateFile(path).load() as MachineState

  it('has the write in the file before the answer, and nothing for reads or refusals', async () => {
    const path = join(dir(), 'state.json')
    const a = await buildOps({ stateFile: path, token: TOKEN })
    try {
      // A zero-length write succeeds without writing: the file does not record the tunable.
      const empty = await a.server.inject({ method: 'PUT', url: SLEEP, payload: '', headers: AUTH })
      expect(empty.statusCode).toBe(200)
      expect(saved(path).tunables).toEqual({})

      const put = await a.server.inject({ method: 'PUT', url: SLEEP, payload: '77', headers: AUTH })
      expect(put.statusCode).toBe(200)
      expect(saved(path).tunables).toEqual({ [SLEEP]: '77' })

      const stop = await a.server.inject({
        method: 'POST',
        url: '/threads/kscand/stop',
        headers: AUTH,
      })
      expect(stop.statusCode).toBe(200)
      expect(saved(path).threads.kscand).toBe('stopped')

      const spawn = await a.server.inject({
        method: 'POST',
        url: '/processes',
        payload: { ...SMALL_PROCESS, comm: 'spawned' },
        headers: AUTH,
      })
      expect(spawn.statusCode).toBe(201)
      expect(saved(path).processes.map((p) => p.spec.comm)).toEqual(['app', 'spawned'])

      const saves = a.persistence?.saves
      const refused = await a.server.inject({
        method: 'PUT',
        url: SLEEP,
        payload: 'x',
        headers: AUTH,
      })
      expect(refused.statusCode).toBe(400)
      const anonymous = await a.server.inject({ method: 'PUT', url: SLEEP, payload: '5' })
      expect(anonymous.statusCode).toBe(401)
      await a.server.inject({ method: 'GET', url: SLEEP })
      const step = await a.server.inject({
        method: 'POST',
        url: '/sim/step',
        payload: { ms: 100 },
        headers: AUTH,
      })
      expect(step.statusCode).toBe(200)
      expect(a.persistence?.saves).toBe(saves)
      expect(saved(path).tunables).toEqual({ [SLEEP]: '77' })
    } finally {
      await a.close()
    }
  })

  it('answers 500 EIO when the file cannot be written: the write is not acknowledged', async () => {
    const d = dir()
    const path = join(d, 'state.json')
    const a = await buildOps({ stateFile: path })
    try {
      rmSync(d, { recursive: true })
      const put = await a.server.inject({
        method: 'PUT',
        url: SLEEP,
        payload: '66',
        headers: { accept: 'application/json' },
      })
      expect(put.statusCode).toBe(500)
      expect(put.json()).toMatchObject({ code: 'EIO', message: 'write error: Input/output error' })
      expect(put.json().detail).toMatch(/could not be saved to .*state\.json: ENOENT/)
      expect(a.persistence?.failures).toBe(1)
    } finally {
      await a.close()
    }
  })
})
