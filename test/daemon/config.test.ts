/** The environment the server reads, and its refusal to take anonymous writes off loopback. */
import { describe, expect, it } from 'vitest'
import { isLoopback, loadConfig, loadMachineConfig } from '../../src/daemon/config.ts'
import { boot } from '../../src/host/boot.ts'

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8080 with no token', () => {
    expect(loadConfig({})).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: false,
    })
    expect(loadConfig({}).KSCAND_SIM_TOKEN).toBeUndefined()
  })

  it('refuses a non-loopback address without a token', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(
      /refusing to listen on 0.0.0.0 without a write token/,
    )
    expect(() =>
      loadConfig({ HOST: '192.168.1.5', KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: '0' }),
    ).toThrow()
    expect(() => loadConfig({ HOST: 'example.org' })).toThrow()
  })

  it('allows it with a token, or with anonymous writes explicitly allowed', () => {
    const token = 's3cret-0123456789'
    expect(loadConfig({ HOST: '0.0.0.0', KSCAND_SIM_TOKEN: token }).KSCAND_SIM_TOKEN).toBe(token)
    expect(loadConfig({ HOST: '::', KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: '1' }).HOST).toBe('::')
    expect(loadConfig({ HOST: '0.0.0.0', KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: 'true' }).HOST).toBe(
      '0.0.0.0',
    )
  })

  it('rejects a bad port or flag', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/bad environment/)
    expect(() => loadConfig({ KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: 'maybe' })).toThrow(
      /bad environment/,
    )
  })

  it('keeps 600 virtual s of chart history for 16 processes unless told; bounds both', () => {
    const config = loadConfig({ HISTORY_SECONDS: '3600', HISTORY_PROCESSES: '0' })
    expect([config.HISTORY_SECONDS, config.HISTORY_PROCESSES]).toEqual([3600, 0])
    expect(loadConfig({})).toMatchObject({ HISTORY_SECONDS: 600, HISTORY_PROCESSES: 16 })
    for (const HISTORY_SECONDS of ['59', '3601', '10m', '']) {
      expect(() => loadConfig({ HISTORY_SECONDS })).toThrow(/^bad environment: HISTORY_SECONDS=/)
    }
    expect(() => loadConfig({ HISTORY_PROCESSES: '33' })).toThrow(/HISTORY_PROCESSES="33"/)
    // What the boot gives the kernel.
    const { kernel } = boot({
      seed: 1,
      machine: loadMachineConfig(undefined),
      machineSource: 'demo machine',
      onCorrupt: 'refuse',
      history: { historySeconds: 120, historyProcesses: 2 },
    })
    expect([kernel.history.capacity, kernel.history.maxProcesses]).toEqual([120, 2])
  })

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['127.example.org', false],
  ])('isLoopback(%s) is %s', (host, expected) => expect(isLoopback(host)).toBe(expected))
})
