/**
 * A real server on 127.0.0.1, spoken to with the exact bytes curl sends (captured from
 * curl 7.88: `-d 100` and `--data-binary 100` are a form POST of `100`; `echo 100 | curl -T -`
 * is a chunked PUT of `100\n` with `Expect: 100-continue` and no content type), and with
 * curl itself when it is installed.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Built, build, TOKEN } from '../helpers/http.ts'

const K = '/sys/kernel/mm/kscand'
let t: Built
let port = 0

beforeAll(async () => {
  t = await build({ token: TOKEN })
  await t.server.listen({ host: '127.0.0.1', port: 0 })
  port = (t.server.server.address() as { port: number }).port
})
afterAll(() => t.close())

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Sends `head` and `body` as raw bytes and reads one final (non-1xx) response. */
function raw(head: string, body: Buffer | string = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    sock.on('error', reject)
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
        const status = Number(lines[0].split(' ')[1])
        const headers = Object.fromEntries(
          lines
            .slice(1)
            .map((l) => [
              l.slice(0, l.indexOf(':')).toLowerCase(),
              l.slice(l.indexOf(':') + 1).trim(),
            ]),
        )
        if (status < 200) {
          buf = buf.subarray(end + 4)
          continue
        }
        const len = Number(headers['content-length'] ?? 0)
        if (buf.length < end + 4 + len) return
        sock.destroy()
        resolve({ status, headers, body: buf.subarray(end + 4, end + 4 + len).toString('latin1') })
        return
      }
    })
    sock.write(head.replace(/\n/g, '\r\n'))
    sock.write(body)
  })
}

const host = () => `Host: 127.0.0.1:${port}\nUser-Agent: curl/7.88.1\nAccept: */*\n`
const auth = `Authorization: Bearer ${TOKEN}\n`

/** curl -d BODY / --data-binary BODY */
const curlData = (path: string, body: string, extra = '') =>
  raw(
    `POST ${path} HTTP/1.1\n${host()}${extra}Content-Length: ${Buffer.byteLength(body, 'latin1')}\nContent-Type: application/x-www-form-urlencoded\n\n`,
    Buffer.from(body, 'latin1'),
  )

/** echo BODY | curl -T - */
const curlUpload = (path: string, body: string, extra = '') => {
  const chunk = Buffer.from(body, 'latin1')
  return raw(
    `PUT ${path} HTTP/1.1\n${host()}${extra}Transfer-Encoding: chunked\nExpect: 100-continue\n\n`,
    Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n0\r\n\r\n'),
    ]),
  )
}

describe('the exact bytes curl sends', () => {
  it('curl URL reads what cat prints', async () => {
    const r = await raw(`GET ${K}/scan_sleep_ms HTTP/1.1\n${host()}\n`)
    expect(r.status).toBe(200)
    expect(r.body).toBe('20\n')
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(r.headers.etag).toMatch(/^"[0-9a-f]{8}"$/)
  })

  it('curl -d 100 (a form POST of "100") writes', async () => {
    const r = await curlData(`${K}/scan_sleep_ms`, '100', auth)
    expect(r.status).toBe(200)
    expect(r.body).toBe('100\n')
    expect(t.kernel.kscand.scan_sleep_ms).toBe(100)
  })

  it('echo 101 | curl -T - (a chunked PUT of "101\\n", Expect: 100-continue) writes', async () => {
    const r = await curlUpload(`${K}/scan_sleep_ms`, '101\n', auth)
    expect(r.status).toBe(200)
    expect(r.body).toBe('101\n')
    expect(t.kernel.kscand.scan_sleep_ms).toBe(101)
  })

  it('a rejected write says what bash says, and changes nothing', async () => {
    for (const body of [' 5', '5 ', '0x10', '-1', '5\n\n', '\xff\xfe']) {
      const r = await curlData(`${K}/scan_sleep_ms`, body, auth)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body).toBe('write error: Invalid argument\n')
    }
    const up = await curlUpload(`${K}/scan_enabled`, '2\n', auth)
    expect(up.status).toBe(400)
    expect(t.kernel.kscand.scan_sleep_ms).toBe(101)
    expect(t.kernel.kscand.scan_enabled).toBe(true)
  })

  it('without the token a write is 401 and the token never echoes', async () => {
    const r = await curlData(`${K}/scan_sleep_ms`, '5')
    expect(r.status).toBe(401)
    expect(r.body).toBe('write error: Permission denied\n')
  })

  it('path tricks sent raw are 404, never another file', async () => {
    for (const path of [
      `${K}/../../..`,
      `${K}/../kscand/scan_sleep_ms`,
      `${K}%2Fscan_sleep_ms`,
      `${K}/..%2F..%2Fkscand%2Fscan_sleep_ms`,
      '/sys/kernel/mm/kscand/./scan_sleep_ms',
      '/sys/kernel/mm//kscand/scan_sleep_ms',
    ]) {
      const r = await raw(`GET ${path} HTTP/1.1\n${host()}\n`)
      expect(r.status, path).toBe(404)
      const w = await curlData(path, '7', auth)
      expect(w.status, path).toBe(404)
    }
    expect(t.kernel.kscand.scan_sleep_ms).toBe(101)
  })

  it('a huge chunked body is 413 and the server keeps serving', async () => {
    const r = await curlUpload(`${K}/scan_sleep_ms`, '1'.repeat(1 << 20), auth)
    expect(r.status).toBe(413)
    expect(r.body).toBe('write error: Argument list too long\n')
    const ok = await raw(`GET ${K}/scan_sleep_ms HTTP/1.1\n${host()}\n`)
    expect(ok.body).toBe('101\n')
  })
})

const exec = promisify(execFile)
const haveCurl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some(existsSync)

describe.skipIf(!haveCurl)('curl itself', () => {
  const url = (path: string) => `http://127.0.0.1:${port}${path}`
  const curl = async (...args: string[]) =>
    (await exec('curl', ['-s', '-H', `Authorization: Bearer ${TOKEN}`, ...args])).stdout

  it('reads, writes with -d and --data-binary, uploads with -T -, and shows the error text', async () => {
    expect(await curl(url(`${K}/mms_to_scan`))).toBe('4096\n')
    expect(await curl('-d', '100', url(`${K}/mms_to_scan`))).toBe('100\n')
    expect(await curl('--data-binary', '200', url(`${K}/mms_to_scan`))).toBe('200\n')
    const child = execFile('curl', [
      '-s',
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      '-T',
      '-',
      url(`${K}/mms_to_scan`),
    ])
    const out = new Promise<string>((resolve) => {
      let s = ''
      child.stdout?.on('data', (d) => {
        s += d
      })
      child.on('close', () => resolve(s))
    })
    child.stdin?.end('300\n')
    expect(await out).toBe('300\n')
    expect(await curl('-d', '0x10', url(`${K}/mms_to_scan`))).toBe(
      'write error: Invalid argument\n',
    )
    expect(await curl('-H', 'Accept: application/json', url(`${K}/mms_to_scan`))).toBe(
      `{"path":"${K}/mms_to_scan","mode":"0644","value":300}`,
    )
  })
})
