/**
 * The runner turns wall time into virtual time: real time × speed, paused with explicit
 * steps, or as fast as possible — in bounded slices. Wall time is faked here, so the tests
 * control it exactly.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SimRunner } from '../../src/host/runner.ts'
import { boot } from '../helpers/kernel.ts'

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
  })
})
afterEach(() => vi.useRealTimers())

describe('SimRunner', () => {
  it('real time × speed: virtual time follows wall time', async () => {
    const k = boot()
    const r = new SimRunner(k, { speed: 10 })
    await vi.advanceTimersByTimeAsync(1000)
    // 1 s of wall time at ×10, to within one tick.
    expect(k.now).toBeGreaterThanOrEqual(9900)
    expect(k.now).toBeLessThanOrEqual(10_000)
    expect(r.status()).toMatchObject({ mode: 'realtime', speed: 10, seed: 7 })
    r.setSpeed(1)
    const t = k.now
    await vi.advanceTimersByTimeAsync(500)
    expect(k.now - t).toBeGreaterThanOrEqual(490)
    expect(k.now - t).toBeLessThanOrEqual(500)
    expect(() => r.setSpeed(0)).toThrow(RangeError)
    expect(() => r.setSpeed(Number.NaN)).toThrow(RangeError)
    r.close()
  })

  it('paused: time moves only by steps, exactly', async () => {
    const k = boot()
    const r = new SimRunner(k, { mode: 'paused' })
    await vi.advanceTimersByTimeAsync(1000)
    expect(k.now).toBe(0)
    const done = r.step(2500)
    await vi.runAllTimersAsync()
    await done
    expect(k.now).toBe(2500)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(0)
    r.close()
  })

  it('paused then resumed in real time picks up from the current virtual time', async () => {
    const k = boot()
    const r = new SimRunner(k, { mode: 'paused' })
    await r.step(1000)
    r.setMode('realtime')
    await vi.advanceTimersByTimeAsync(200)
    expect(k.now).toBeGreaterThanOrEqual(1190)
    expect(k.now).toBeLessThanOrEqual(1200)
    r.close()
  })

  it('as fast as possible: far ahead of real time, one slice per event-loop turn', async () => {
    const k = boot()
    k.exec({ comm: 'a', size: 4 * 1024 * 1024 })
    const r = new SimRunner(k, { mode: 'afap' })
    // Fake wall time stands still inside a turn, so each turn runs its full 64 virtual s.
    await vi.advanceTimersByTimeAsync(1)
    expect(k.now).toBeGreaterThan(1000)
    r.close()
    const at = k.now
    await vi.advanceTimersByTimeAsync(100)
    expect(k.now).toBe(at)
  })
})
