/** The kstrto* parsers against the rules of lib/kstrtox.c (docs/spec/kernel-interfaces.md §5.4). */
import { describe, expect, it } from 'vitest'
import {
  cString,
  kstrtobool,
  kstrtoint,
  kstrtoll,
  kstrtouint,
  kstrtoul,
  kstrtoull,
} from '../../src/sysfs/kstrto.ts'

const fails = (err: 'EINVAL' | 'ERANGE') => ({ ok: false, err })
const gives = (value: unknown) => ({ ok: true, value })

describe('kstrtouint (base 10)', () => {
  it.each([
    ['0', 0],
    ['20', 20],
    ['20\n', 20],
    ['+20', 20],
    ['+20\n', 20],
    ['007', 7],
    ['4294967295', 4294967295],
    ['00000000000000000000000000001', 1],
  ])('accepts %j as %d', (s, v) => expect(kstrtouint(s)).toEqual(gives(v)))

  it.each([
    [''],
    ['\n'],
    ['+'],
    ['-1'],
    ['-0'],
    [' 20'],
    ['20 '],
    ['\t20'],
    ['20\n\n'],
    ['20\r\n'],
    ['\n20'],
    ['0x10'],
    ['0X10'],
    ['1e3'],
    ['1.5'],
    ['++1'],
    ['+-1'],
    ['1_000'],
    ['٣'],
    ['20abc'],
    ['abc'],
  ])('rejects %j with EINVAL', (s) => expect(kstrtouint(s)).toEqual(fails('EINVAL')))

  it.each([
    ['4294967296'],
    ['18446744073709551615'],
    ['18446744073709551616'],
    ['99999999999999999999999'],
  ])('rejects %j with ERANGE', (s) => expect(kstrtouint(s)).toEqual(fails('ERANGE')))

  it('reports overflow before trailing junk, as _kstrtoull does', () => {
    expect(kstrtouint('99999999999999999999x')).toEqual(fails('ERANGE'))
    expect(kstrtouint('4294967296x')).toEqual(fails('EINVAL'))
  })
})

describe('kstrtoul / kstrtoull (64-bit)', () => {
  it('is the same function on a 64-bit kernel', () => expect(kstrtoul).toBe(kstrtoull))

  it.each([
    ['0', 0n],
    ['4096\n', 4096n],
    ['+18446744073709551615', 18446744073709551615n],
    ['9007199254740993', 9007199254740993n],
  ])('accepts %j', (s, v) => expect(kstrtoul(s)).toEqual(gives(v)))

  it.each([['18446744073709551616'], ['184467440737095516150']])('rejects %j with ERANGE', (s) =>
    expect(kstrtoul(s)).toEqual(fails('ERANGE')),
  )

  it.each([['-1'], [' 1'], ['1 '], ['0x1'], ['']])('rejects %j with EINVAL', (s) =>
    expect(kstrtoul(s)).toEqual(fails('EINVAL')),
  )
})

describe('kstrtoint / kstrtoll (signed)', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['+0', 0],
    ['1\n', 1],
    ['-1\n', -1],
    ['2147483647', 2147483647],
    ['-2147483648', -2147483648],
  ])('accepts %j as %d', (s, v) => expect(kstrtoint(s)).toEqual(gives(v)))

  it.each([['2147483648'], ['-2147483649'], ['9223372036854775808'], ['-99999999999999999999']])(
    'rejects %j with ERANGE',
    (s) => expect(kstrtoint(s)).toEqual(fails('ERANGE')),
  )

  it.each([
    ['-'],
    ['-\n'],
    ['--1'],
    ['-+1'],
    ['+-1'],
    [' -1'],
    ['-1 '],
    ['- 1'],
    ['0x1'],
    ['-0x1'],
  ])('rejects %j with EINVAL', (s) => expect(kstrtoint(s)).toEqual(fails('EINVAL')))

  it('takes the full s64 range: -2^63 is fine, -2^63-1 and 2^63 are ERANGE', () => {
    expect(kstrtoll('-9223372036854775808')).toEqual(gives(-9223372036854775808n))
    expect(kstrtoll('9223372036854775807')).toEqual(gives(9223372036854775807n))
    expect(kstrtoll('-9223372036854775809')).toEqual(fails('ERANGE'))
    expect(kstrtoll('9223372036854775808')).toEqual(fails('ERANGE'))
  })
})

describe('kstrtobool', () => {
  it.each([
    '1',
    'y',
    'Y',
    'yes',
    't',
    'T',
    'true',
    'e',
    'E',
    'enable',
    'on',
    'ON',
    'oN',
    '1abc',
    '1\n\n',
  ])('reads %j as true', (s) => expect(kstrtobool(s)).toEqual(gives(true)))
  it.each(['0', 'n', 'N', 'no', 'f', 'F', 'false', 'd', 'D', 'disable', 'off', 'Off', 'OFF', '0x'])(
    'reads %j as false',
    (s) => expect(kstrtobool(s)).toEqual(gives(false)),
  )
  it.each(['', '\n', ' 1', '2', 'o', 'o\n', 'ox', 'maybe', '+1', '-1', 'x'])('rejects %j', (s) =>
    expect(kstrtobool(s)).toEqual(fails('EINVAL')),
  )
})

describe('cString', () => {
  it('ends the string at the first NUL, as kernfs hands the store a C string', () => {
    expect(cString('1\0garbage')).toBe('1')
    expect(cString('\0')).toBe('')
    expect(cString('12')).toBe('12')
    expect(kstrtouint(cString('7\n\0\xff'))).toEqual(gives(7))
  })
})
