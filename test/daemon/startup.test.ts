/**
 * Configuration: every error is one line naming the variable or key, with a defined exit
 * code; `--help` lists every option with its default, `--version` the version; the README
 * table is the generated one.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { README_PATH, section } from '../../scripts/ops-doc.ts'
import {
  configTable,
  ENV_OPTIONS,
  FILE_OPTIONS,
  loadConfig,
  loadMachineConfig,
  MAX_CONFIG_FILE_BYTES,
} from '../../src/daemon/config.ts'
import { boot } from '../../src/host/boot.ts'
import { GiB, MiB } from '../../src/kernel/constants.ts'
import { ROOT, runToExit, SMALL_MACHINE, smallConfigFile, tempDirs } from '../helpers/process.ts'

const dir = tempDirs()

function message(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected an error')
}

describe('environment', () => {
  it.each([
    [{ PORT: '' }, 'bad environment: PORT="": expected a decimal integer'],
    [{ PORT: '8080x' }, 'bad environment: PORT="8080x": expected a decimal integer'],
    [{ SEED: '-1' }, 'bad environment: SEED="-1": Too small: expected number to be >=0'],
    [
      { SPEED: 'fast' },
      'bad environment: SPEED="fast": Invalid input: expected number, received NaN',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'bad environment: LOG_LEVEL="loud": Invalid option: expected one of ' +
        '"fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
    ],
    [
      { SIM_MODE: 'fast' },
      'bad environment: SIM_MODE="fast": Invalid option: expected one of "realtime"|"paused"|"afap"',
    ],
    [
      { STATE_FILE_ON_CORRUPT: 'ignore' },
      'bad environment: STATE_FILE_ON_CORRUPT="ignore": Invalid option: expected one of ' +
        '"refuse"|"move-aside"',
    ],
    [{ RING_SIZE: '0' }, 'bad environment: RING_SIZE="0": Too small: expected number to be >=1'],
    [
      { SHUTDOWN_DRAIN_MS: '7000' },
      'bad environment: SHUTDOWN_TIMEOUT_MS (8000) must exceed SHUTDOWN_DRAIN_MS + ' +
        'SHUTDOWN_WS_GRACE_MS (7000 + 2000)',
    ],
    [
      { KSCAND_SIM_TOKEN: '', WRITE_RATE_LIMIT: '-5' },
      'bad environment: KSCAND_SIM_TOKEN: Too small: expected string to have >=1 characters; ' +
        'WRITE_RATE_LIMIT="-5": Too small: expected number to be >=0',
    ],
  ])('%j: %s', (env, expected) => {
    const m = message(() => loadConfig(env))
    expect(m).toBe(expected)
    expect(m).not.toContain('\n')
  })

  it('parses the new variables', () => {
    const c = loadConfig({
      SEED: '7',
      SIM_MODE: 'paused',
      STATE_FILE: '',
      CONFIG_FILE: '/etc/m.json',
      REQUEST_LOG_LEVEL: 'silent',
    })
    expect(c).toMatchObject({ SEED: 7, SIM_MODE: 'paused', REQUEST_LOG_LEVEL: 'silent' })
    expect(c.STATE_FILE).toBeUndefined()
    expect(loadConfig({ STATE_FILE: '/data/state.json' }).STATE_FILE).toBe('/data/state.json')
  })
})

describe('config file', () => {
  const file = (content: unknown) => {
    const path = join(dir(), 'machine.json')
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }
  const node = (capacity: number, cpus: boolean) => ({ capacity, cpus })

  it.each([
    ['not JSON', '{topology:', /: not JSON: /],
    ['not an object', '[1]', /: \(top level\): Invalid input: expected object, received array/],
    ['an unknown key', { topologie: {} }, /: \(top level\): Unrecognized key: "topologie"/],
    [
      'a prototype key',
      '{"__proto__": {"x": 1}}',
      /: \(top level\): Unrecognized key: "__proto__"/,
    ],
    [
      'a wrong type',
      { topology: { nodes: [{ capacity: '4G', cpus: true }] } },
      /: topology\.nodes\[0\]\.capacity: Invalid input: expected number, received string/,
    ],
    [
      'a capacity that is not whole pages',
      { topology: { nodes: [node(4097, true)] } },
      /: topology\.nodes\[0\]\.capacity: Invalid number: must be a multiple of 4096/,
    ],
    [
      'a huge machine',
      { topology: { nodes: [node(200 * GiB, true), node(200 * GiB, false)] } },
      /: topology: the nodes add up to more than 256 GiB/,
    ],
    [
      'too many nodes',
      { topology: { nodes: Array.from({ length: 65 }, () => node(MiB, true)) } },
      /: topology\.nodes: Too big: expected array to have <=64 items/,
    ],
    [
      'too many processes',
      { processes: Array.from({ length: 257 }, () => ({ comm: 'p', size: 4096 })) },
      /: processes: Too big: expected array to have <=256 items/,
    ],
    [
      'a bad process',
      { processes: [{ comm: 'has space', size: 4096 }] },
      /: processes\[0\]\.comm: Invalid string/,
    ],
    [
      'a tunable of the wrong type',
      { tunables: { '/sys/kernel/mm/kscand/scan_sleep_ms': [1] } },
      /: tunables\["\/sys\/kernel\/mm\/kscand\/scan_sleep_ms"\]: Invalid input/,
    ],
  ])('refuses %s, naming the key', (_what, content, expected) => {
    const path = file(content)
    const m = message(() => loadMachineConfig(path))
    expect(m.startsWith(`config file ${path}: `)).toBe(true)
    expect(m).toMatch(expected)
    expect(m).not.toContain('\n')
  })

  it('refuses a file too big to be a config file, a directory and a missing file', () => {
    const big = file(`{"tunables":{"a":"${'x'.repeat(MAX_CONFIG_FILE_BYTES)}"}}`)
    expect(message(() => loadMachineConfig(big))).toMatch(
      /: \d+ bytes; a config file is at most 1048576$/,
    )
    const d = dir()
    expect(message(() => loadMachineConfig(d))).toBe(`config file ${d}: not a regular file`)
    expect(message(() => loadMachineConfig(join(d, 'nope.json')))).toBe(
      `config file ${join(d, 'nope.json')}: cannot read it: ENOENT`,
    )
  })

  it('is the demo machine where silent, and applies what it gives at boot', () => {
    expect(loadMachineConfig(undefined).processes.map((p) => p.comm)).toEqual([
      'memcached',
      'gups',
      'backup',
    ])
    const path = file({
      ...SMALL_MACHINE,
      tunables: {
        '/sys/kernel/mm/kscand/scan_sleep_ms': 250,
        '/sys/kernel/mm/numa/demotion_enabled': false,
        '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot': 'n',
      },
    })
    const machine = loadMachineConfig(path)
    const { kernel } = boot({ seed: 1, machine, machineSource: 'm', onCorrupt: 'refuse' })
    expect(kernel.kscand.scan_sleep_ms).toBe(250)
    expect(kernel.demotion_enabled).toBe(false)
    expect(kernel.quirks.kmigrated_sticky_slot).toBe(false)
    expect(kernel.machine.nodes).toHaveLength(3)
    expect(kernel.processList().map((p) => p.comm)).toEqual(['app'])
  })

  it.each([
    [
      { tunables: { '/proc/vmstat': 1 } },
      'm: tunables["/proc/vmstat"]: not a writable sysfs file of this machine',
    ],
    [
      { tunables: { '/sys/kernel/mm/kscand/target_node': 2 } },
      'm: tunables["/sys/kernel/mm/kscand/target_node"]: node 2 is not a top-tier node',
    ],
    [
      { processes: [{ comm: 'huge', size: 128 * MiB, policy: { mode: 'bind', nodes: [0] } }] },
      'm: processes[0]: cannot place 32768 pages: only',
    ],
  ])('stops the boot on %j, naming the key', (content, expected) => {
    const machine = loadMachineConfig(file({ ...SMALL_MACHINE, ...content }))
    const m = message(() => boot({ seed: 1, machine, machineSource: 'm', onCorrupt: 'refuse' }))
    expect(m.startsWith(expected), m).toBe(true)
  })
})

describe('the process', () => {
  it('--help lists every option with its default, and exits 0', async () => {
    const r = await runToExit({}, { args: ['--help'] })
    expect(r.code).toBe(0)
    expect(ENV_OPTIONS.length).toBeGreaterThan(15)
    for (const o of [...ENV_OPTIONS, ...FILE_OPTIONS]) {
      expect(r.stdout).toContain(`  ${o.name} `)
      expect(r.stdout).toContain(`default: ${o.default}\n`)
    }
  })

  it('--version prints the package version, and exits 0', async () => {
    const r = await runToExit({}, { args: ['--version'] })
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it.each([
    [{ PORT: 'abc' }, [], 'kscand-sim: bad environment: PORT="abc": expected a decimal integer\n'],
    [{}, ['--verbose'], "kscand-sim: Unknown option '--verbose' (see --help)\n"],
    [
      { HOST: '0.0.0.0' },
      [],
      'kscand-sim: refusing to listen on 0.0.0.0 without a write token: set KSCAND_SIM_TOKEN, ' +
        'or KSCAND_SIM_ALLOW_ANONYMOUS_WRITES=1 to let anyone who can reach it write\n',
    ],
  ])('%j %j: one line on stderr, exit 2', async (env, args, expected) => {
    const r = await runToExit(env, { args })
    expect(r).toMatchObject({ code: 2, stderr: expected, stdout: '' })
  })

  it('stops with exit 2 and one line on a bad config file', async () => {
    const path = join(dir(), 'machine.json')
    writeFileSync(path, JSON.stringify({ topology: { nodes: [] } }))
    const r = await runToExit({ CONFIG_FILE: path })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `kscand-sim: config file ${path}: topology.nodes: Too small: expected array to have >=1 items\n`,
    )
  })

  it('stops with exit 3 and one line when the port is in use', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    try {
      const d = dir()
      const r = await runToExit({
        HOST: '127.0.0.1',
        PORT: String(port),
        CONFIG_FILE: smallConfigFile(d),
        LOG_LEVEL: 'silent',
      })
      expect(r.code).toBe(3)
      expect(r.stderr).toBe(`kscand-sim: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`)
    } finally {
      blocker.close()
    }
  })
})

describe('README', () => {
  it('has the configuration table generated from the schemas', () => {
    const readme = readFileSync(README_PATH, 'utf8')
    expect(section(readme, 'config'), 'README.md is stale: run npm run docs').toBe(configTable())
  })
})
