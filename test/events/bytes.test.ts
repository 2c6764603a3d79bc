/** The byte writer the stream builds frames with writes exactly what JSON.stringify would. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteWriter } from '../../src/events/bytes.ts'
import { formatPointer } from '../../src/kernel/trace.ts'

const written = (f: (w: ByteWriter) => void) => {
  const w = new ByteWriter(4)
  f(w)
  return w.buf.toString('utf8', 0, w.pos)
}

describe('ByteWriter', () => {
  it('writes numbers as JSON does', () => {
    for (const n of [
      0,
      9,
      10,
      2 ** 31 - 1,
      2 ** 31,
      1e9,
      1e9 + 7,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      -5,
      1.5,
      -0.25,
      1e300,
    ]) {
      expect(written((w) => w.number(n))).toBe(JSON.stringify(n))
    }
    fc.assert(
      fc.property(
        fc.oneof(
          fc.maxSafeInteger(),
          fc.integer(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        ),
        (n) => {
          expect(written((w) => w.number(n))).toBe(JSON.stringify(n))
        },
      ),
    )
  })

  it('writes strings as JSON does, and pointers as printk %p', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(written((w) => w.string(a))).toBe(JSON.stringify(a))
        expect(JSON.parse(written((w) => w.string(b)))).toBe(JSON.parse(JSON.stringify(b)))
      }),
    )
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), (v) => {
        expect(written((w) => w.pointer(v))).toBe(`"${formatPointer(v)}"`)
      }),
    )
  })
})
