/**
 * A growable byte buffer for building frames without intermediate strings: the stream's
 * hot path writes hundreds of thousands of events a second, and building each as a string
 * first (then joining, then encoding) costs several times the bytes themselves.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const HEX = Buffer.from('0123456789abcdef', 'latin1')

export class ByteWriter {
  buf: Buffer
  pos = 0

  constructor(capacity = 1 << 17) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  reset(): void {
    this.pos = 0
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    const buf = this.buf
    const p = this.pos
    // A loop beats the native copy's call overhead for a few bytes, not beyond.
    if (b.length > 16) buf.set(b, p)
    else for (let i = 0; i < b.length; i++) buf[p + i] = b[i]
    this.pos = p + b.length
  }

  /** Any string, UTF-8 encoded. */
  utf8(s: string): void {
    this.ensure(s.length * 3)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }

  /** A number as JSON writes it (safe integers digit by digit, others through String()). */
  number(n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.utf8(String(n))
      return
    }
    this.ensure(17)
    if (n < 0) {
      this.buf[this.pos++] = 0x2d
      n = -n
    }
    // Integer arithmetic on 31-bit halves: double division and modulo are several times slower.
    if (n < 0x80000000) this.digits(n, 0)
    else {
      const hi = Math.floor(n / 1e9)
      this.digits(hi, 0)
      this.digits(n - hi * 1e9, 9)
    }
  }

  /** The decimal digits of 0 <= n < 2^31, zero-padded to `width`. */
  private digits(n: number, width: number): void {
    let len = 1
    for (let x = n; x >= 10; x = (x / 10) | 0) len++
    if (len < width) len = width
    const b = this.buf
    let p = this.pos + len
    this.pos = p
    for (let i = 0; i < len; i++) {
      const q = (n / 10) | 0
      b[--p] = 0x30 + n - q * 10
      n = q
    }
  }

  /** `"xxxxxxxxxxxxxxxx"`: a 32-bit value as printk's %p shows a hashed pointer. */
  pointer(v: number): void {
    this.ensure(18)
    const b = this.buf
    let p = this.pos
    b[p++] = QUOTE
    for (let k = 0; k < 8; k++) b[p++] = 0x30
    v >>>= 0
    for (let shift = 28; shift >= 0; shift -= 4) b[p++] = HEX[(v >>> shift) & 15]
    b[p++] = QUOTE
    this.pos = p
  }

  /** A JSON string: printable ASCII byte by byte, anything else through JSON.stringify. */
  string(s: string): void {
    this.ensure(s.length + 2)
    const b = this.buf
    let p = this.pos
    b[p++] = QUOTE
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        this.utf8(JSON.stringify(s))
        return
      }
      b[p++] = c
    }
    b[p++] = QUOTE
    this.pos = p
  }
}
