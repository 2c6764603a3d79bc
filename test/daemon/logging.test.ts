/**
 * Logs: JSON lines on stdout with tokens redacted, one line per request at its own level,
 * pretty lines only on a terminal.
 */
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loggerOptions, prettyLine, RequestLog } from '../../src/daemon/logger.ts'
import {
  NO_SHEDDING,
  type ServerProcess,
  smallConfigFile,
  startServer,
  TOKEN,
  tempDirs,
} from '../helpers/process.ts'

function sink(isTTY = false) {
  const lines: string[] = []
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean))
        done()
      },
    }),
    { isTTY },
  ) as unknown as NodeJS.WriteStream
  return { lines, stream }
}

const dir = tempDirs()

describe('the logger', () => {
  it('redacts authorization headers and tokens', () => {
    const out = sink()
    const log = pino({ ...loggerOptions({ LOG_LEVEL: 'info' }, out.stream) }, out.stream)
    log.info(
      {
        req: {
          headers: { authorization: 'Bearer s1', cookie: 'c=s2', 'sec-websocket-protocol': 's3' },
        },
        config: { KSCAND_SIM_TOKEN: 's4', PORT: 8080 },
        token: 's5',
      },
      'hello',
    )
    expect(out.lines).toHaveLength(1)
    const line = JSON.parse(out.lines[0])
    expect(line.req.headers).toEqual({
      authorization: '[redacted]',
      cookie: '[redacted]',
      'sec-websocket-protocol': '[redacted]',
    })
    expect(line.config).toEqual({ KSCAND_SIM_TOKEN: '[redacted]', PORT: 8080 })
    expect(line.token).toBe('[redacted]')
    expect(out.lines[0]).not.toMatch(/s[1-5]/)
  })

  it('writes JSON unless the output is a terminal, then lines for people', () => {
    expect(loggerOptions({ LOG_LEVEL: 'info' }, sink(false).stream)).not.toHaveProperty('stream')
    const tty = sink(true)
    const opts = loggerOptions({ LOG_LEVEL: 'info' }, tty.stream)
    const log = pino(opts, opts.stream as NodeJS.WritableStream)
    log.warn({ path: '/sys/x', n: 3 }, 'write accepted')
    expect(tty.lines).toHaveLength(1)
    expect(tty.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}write accepted path=\/sys\/x n=3$/)
    expect(prettyLine('not json')).toBe('not json')
  })

  it('logs one line per request at REQUEST_LOG_LEVEL, probes at debug, nothing when silent', async () => {
    const run = async (level: 'info' | 'silent') => {
      const out = sink()
      const f = Fastify({
        logger: { ...loggerOptions({ LOG_LEVEL: 'debug' }, out.stream), stream: out.stream },
        logController: new RequestLog(level),
      })
      f.get('/x', () => 'x')
      f.get('/healthz', () => 'ok')
      await f.inject({ url: '/x' })
      await f.inject({ url: '/healthz' })
      await f.close()
      return out.lines.map((l) => JSON.parse(l)).filter((l) => l.req)
    }
    const info = await run('info')
    expect(info.map((l) => [l.level, l.msg, l.req.url, l.res.statusCode])).toEqual([
      [30, 'request completed', '/x', 200],
      [20, 'request completed', '/healthz', 200],
    ])
    expect(await run('silent')).toEqual([])
  })
})

describe('the process', () => {
  let srv: ServerProcess | null = null
  afterEach(() => {
    srv?.child.kill('SIGKILL')
  })

  it('never writes the token, and writes only JSON lines', async () => {
    srv = await startServer({
      CONFIG_FILE: smallConfigFile(dir()),
      KSCAND_SIM_TOKEN: TOKEN,
      ...NO_SHEDDING,
    })
    const auth = { authorization: `Bearer ${TOKEN}` }
    await fetch(`${srv.url}/sys/kernel/mm/kscand/scan_sleep_ms`, {
      method: 'PUT',
      body: '30',
      headers: auth,
    })
    await fetch(`${srv.url}/threads/kscand/stop`, { method: 'POST', headers: auth })
    await fetch(`${srv.url}/sys/kernel/mm/kscand/scan_sleep_ms`, {
      method: 'PUT',
      body: '31',
      headers: { authorization: 'Bearer wrong-token' },
    })
    await fetch(`${srv.url}/healthz`)
    srv.child.kill('SIGTERM')
    expect(await srv.exited).toEqual({ code: 0, signal: null })

    const out = srv.stdout()
    expect(out).not.toContain(TOKEN)
    expect(out).not.toContain('wrong-token')
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    const configured = lines.find((l) => l.msg === 'configured')
    expect(configured.config.KSCAND_SIM_TOKEN).toBe('[redacted]')
    const requests = lines.filter((l) => l.msg === 'request completed')
    expect(requests.map((l) => [l.req.method, l.req.url, l.res.statusCode])).toEqual([
      ['PUT', '/sys/kernel/mm/kscand/scan_sleep_ms', 200],
      ['POST', '/threads/kscand/stop', 200],
      ['PUT', '/sys/kernel/mm/kscand/scan_sleep_ms', 401],
    ])
    expect(srv.stderr()).toBe('')
  })
})
