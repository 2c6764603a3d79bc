/**
 * NUMA balancing's sysctls and debugfs knobs (docs/numa-balancing.md §2): proc_dointvec
 * parsing, debugfs u32 parsing, and what a write changes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { kstrtoull0, procDointvec } from '../../src/sysfs/kstrto.ts'
import { type Built, build } from '../helpers/http.ts'

const fails = (err: 'EINVAL' | 'ERANGE') => ({ ok: false, err })
const gives = (value: unknown) => ({ ok: true, value })

describe('proc_dointvec (one int)', () => {
  it.each([
    ['2', 2],
    ['2\n', 2],
    ['  2', 2],
    ['\t\n 2\n', 2],
    ['0x3', 3],
    ['010', 8],
    ['0', 0],
    ['-5', -5],
    ['2 9', 2],
    ['2 junk', 2],
    ['2\t', 2],
    ['2147483647', 2147483647],
    ['-2147483648', -2147483648],
    ['00000000000000000002', 2],
  ])('accepts %j as %d', (s, v) => expect(procDointvec(s)).toEqual(gives(v)))

  it.each([
    [''],
    ['   '],
    ['\n'],
    ['-'],
    ['+2'],
    ['- 2'],
    ['2x'],
    ['2,3'],
    ['2\0'],
    ['08'],
    ['0x'],
    ['0xg'],
    ['2147483648'],
    ['-2147483649'],
    // 21 characters fill proc_get_long()'s buffer: rejected however they continue.
    ['000000000000000000002'],
    ['18446744073709551616'],
    ['two'],
  ])('rejects %j with EINVAL', (s) => expect(procDointvec(s)).toEqual(fails('EINVAL')))
})

describe('kstrtoull base 0 (debugfs)', () => {
  it.each([
    ['1000', 1000n],
    ['1000\n', 1000n],
    ['+7', 7n],
    ['0x1F', 31n],
    ['017', 15n],
    ['0', 0n],
    ['18446744073709551615', 18446744073709551615n],
  ])('accepts %j', (s, v) => expect(kstrtoull0(s)).toEqual(gives(v)))

  it.each([[''], [' 1'], ['1 '], ['-1'], ['08'], ['0x'], ['1\n\n']])(
    'rejects %j with EINVAL',
    (s) => expect(kstrtoull0(s)).toEqual(fails('EINVAL')),
  )

  it('overflow is ERANGE', () => {
    expect(kstrtoull0('18446744073709551616')).toEqual(fails('ERANGE'))
    expect(kstrtoull0('0x10000000000000000')).toEqual(fails('ERANGE'))
  })
})

const SYSCTL = '/proc/sys/kernel/numa_balancing'
const RATE = '/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps'
const DBG = '/sys/kernel/debug/sched/numa_balancing'

let t: Built
beforeEach(async () => {
  t = await build()
})
afterEach(() => t.close())

const get = (url: string) => t.server.inject({ method: 'GET', url })
const put = (url: string, payload: string) => t.server.inject({ method: 'PUT', url, payload })

describe('the files over HTTP', () => {
  it('read the defaults', async () => {
    expect((await get(SYSCTL)).body).toBe('0\n')
    expect((await get(RATE)).body).toBe('65536\n')
    const defaults: Record<string, string> = {
      scan_delay_ms: '1000\n',
      scan_period_min_ms: '1000\n',
      scan_period_max_ms: '60000\n',
      scan_size_mb: '256\n',
      hot_threshold_ms: '1000\n',
    }
    for (const [name, text] of Object.entries(defaults))
      expect((await get(`${DBG}/${name}`)).body).toBe(text)
    expect((await get(DBG)).body).toBe(
      'hot_threshold_ms\nscan_delay_ms\nscan_period_max_ms\nscan_period_min_ms\nscan_size_mb\n',
    )
  })

  it('numa_balancing takes 0–4 and rejects the rest with EINVAL, changing nothing', async () => {
    for (const v of ['0', '1', '2', '3', '4', ' 0x2\n']) {
      const r = await put(SYSCTL, v)
      expect(r.statusCode).toBe(200)
      expect(Number(r.body)).toBe(Number(v))
      expect(t.kernel.numab.mode).toBe(Number(v))
    }
    for (const v of ['5', '-1', '2x', '\n', '1\0']) {
      const r = await put(SYSCTL, v)
      expect(r.statusCode).toBe(400)
      expect(r.body).toContain('Invalid argument')
      expect(t.kernel.numab.mode).toBe(2)
    }
  })

  it('a zero-length write to a sysctl succeeds and changes nothing (proc_dointvec: !*lenp)', async () => {
    await put(SYSCTL, '3')
    await put(RATE, '100')
    for (const f of [SYSCTL, RATE]) {
      const r = await put(f, '')
      expect(r.statusCode, f).toBe(200)
    }
    expect(t.kernel.numab.mode).toBe(3)
    expect((await get(SYSCTL)).body).toBe('3\n')
    expect((await get(RATE)).body).toBe('100\n')
  })

  it('a zero-length write to a debugfs u32 is EINVAL: simple_attr_write parses ""', async () => {
    const f = `${DBG}/hot_threshold_ms`
    const r = await put(f, '')
    expect(r.statusCode).toBe(400)
    expect(r.body).toBe('write error: Invalid argument\n')
    expect((await get(f)).body).toBe('1000\n')
  })

  it('turning the tiering bit on resets every node’s threshold state', async () => {
    const nb = t.kernel.numab
    nb.pgdat[0].nbp_threshold = 1250
    nb.pgdat[0].pgpromote_candidate = 77
    t.kernel.advance(5)
    await put(SYSCTL, '1')
    expect(nb.pgdat[0].nbp_threshold).toBe(1250)
    await put(SYSCTL, '3')
    expect(nb.pgdat[0]).toMatchObject({ nbp_threshold: 0, nbp_th_nr_cand: 77, nbp_th_start: 5 })
  })

  it('the rate limit takes any int ≥ 0', async () => {
    expect((await put(RATE, '100')).body).toBe('100\n')
    expect(t.kernel.numab.rateLimitPages).toBe(25600)
    expect((await put(RATE, '-1')).statusCode).toBe(400)
    expect((await put(RATE, '2147483648')).statusCode).toBe(400)
    expect((await get(RATE)).body).toBe('100\n')
  })

  it('debugfs u32s: base 0, ERANGE passed through, stored modulo 2^32', async () => {
    const f = `${DBG}/hot_threshold_ms`
    expect((await put(f, '0x200')).body).toBe('512\n')
    expect((await put(f, '4294967297')).body).toBe('1\n')
    const r = await put(f, '18446744073709551616')
    expect(r.statusCode).toBe(400)
    expect(r.body).toContain('Numerical result out of range')
    expect((await put(f, '12 ')).statusCode).toBe(400)
    expect((await get(f)).body).toBe('1\n')
    // Only the first 23 bytes are parsed.
    expect((await put(f, `${'0'.repeat(22)}7`)).body).toBe('7\n')
    expect((await put(f, `${'0'.repeat(23)}9`)).body).toBe('0\n')
  })

  it('scan_delay_ms is the kernel’s one scan delay, which kscand also reads', async () => {
    await put(`${DBG}/scan_delay_ms`, '250')
    expect(t.kernel.numa_balancing_scan_delay_ms).toBe(250)
    const p = t.kernel.exec({ comm: 'late', size: 4096 * 16 })
    expect(t.kernel.kscand.slotOf(p.mm)!.next_scan).toBe(t.kernel.now + 500)
  })

  it('scan_size_mb 0 is refused (the kernel would divide by zero)', async () => {
    expect((await put(`${DBG}/scan_size_mb`, '0')).statusCode).toBe(400)
    expect((await get(`${DBG}/scan_size_mb`)).body).toBe('256\n')
  })

  it('quirk switches live in an extension directory', async () => {
    expect((await get('/sys/kernel/numab/quirks')).body).toBe(
      'access_time_wraps\nprotnone_keeps_first_time\nscan_period_doubling\nthreshold_creep\n',
    )
    await put('/sys/kernel/numab/quirks/threshold_creep', 'n')
    expect(t.kernel.numab.quirks.threshold_creep).toBe(false)
  })
})
