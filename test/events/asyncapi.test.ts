/**
 * asyncapi.yaml: it is what `npm run asyncapi` generates, the AsyncAPI 3.0.0 schema of
 * @asyncapi/specs accepts it, so does the official parser (@asyncapi/parser), it reads the
 * same in YAML 1.1 and 1.2, and every frame a real session carries (each message type) is
 * valid against the document's own payload schemas.
 */
import { readFileSync } from 'node:fs'
import { DiagnosticSeverity, Parser } from '@asyncapi/parser'
import specs from '@asyncapi/specs'
import { Ajv } from 'ajv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { ASYNCAPI_PATH, generateAsyncapi } from '../../scripts/asyncapi.ts'
import { Client, type Msg, pump, type Served, serve, until } from '../helpers/events.ts'
import { expectPortableYaml } from '../helpers/yaml11.ts'

const text = readFileSync(ASYNCAPI_PATH, 'utf8')
const doc = parse(text)
/** Every message type the server sends. */
const SENT = ['snapshot', 'subscribed', 'batch', 'lost', 'heartbeat', 'stats', 'reset', 'error']

describe('asyncapi.yaml', () => {
  it('is what npm run asyncapi generates', async () => {
    const generated = await generateAsyncapi()
    expect(text === generated, 'asyncapi.yaml is stale: run `npm run asyncapi`').toBe(true)
  })

  it('is served at /asyncapi.yaml as /openapi.yaml is, without the read token', async () => {
    const s = await serve({ readToken: 'read-token-0123456789abcdef' })
    try {
      for (const url of ['/asyncapi.yaml', '/openapi.yaml']) {
        const r = await s.server.inject({ url })
        expect(r.statusCode, url).toBe(200)
        expect(r.headers['content-type'], url).toMatch(/^application\/yaml/)
      }
      expect((await s.server.inject({ url: '/threads' })).statusCode).toBe(401)
      // The same document: what a client fetches is what the repository commits.
      expect((await s.server.inject({ url: '/asyncapi.yaml' })).body).toBe(text)
    } finally {
      await s.close()
    }
  })

  it('is valid AsyncAPI 3.0.0 (@asyncapi/specs with ajv)', () => {
    const ajv = new Ajv({ meta: false, validateSchema: false, strict: false, allErrors: true })
    const validate = ajv.compile(specs.schemas['3.0.0'])
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toBe(true)
    // The validator does reject a broken document.
    const broken = structuredClone(doc)
    broken.operations.sendStream.action = 'publish'
    expect(validate(broken)).toBe(false)
  })

  it('passes @asyncapi/parser with no error or warning', async () => {
    const parser = new Parser()
    const problems = async (yaml: string) =>
      (await parser.parse(yaml)).diagnostics
        .filter((d) => d.severity <= DiagnosticSeverity.Warning)
        .map((d) => `${DiagnosticSeverity[d.severity]} ${d.code} ${d.path.join('.')}: ${d.message}`)
    expect(await problems(text)).toEqual([])
    // The parser does reject a broken document.
    const broken = structuredClone(doc)
    broken.operations.sendStream.channel = { $ref: '#/channels/nowhere' }
    expect((await problems(stringify(broken))).length).toBeGreaterThan(0)
  }, 60_000)

  it('reads the same in YAML 1.1 (PyYAML, yaml.v2) as in 1.2, with no aliases', () => {
    expectPortableYaml(text, 'asyncapi.yaml')
    // The reader of the test does see the difference.
    expect(() => expectPortableYaml('a:\n  on: 1\n', 'x')).toThrow()
    expect(() => expectPortableYaml('- no\n', 'x')).toThrow()
  })

  it('lists every message, close code and declared event', () => {
    expect(Object.keys(doc.components.messages).sort()).toEqual(['subscribe', ...SENT].sort())
    expect(Object.keys(doc.channels.events['x-close-codes'])).toEqual([
      '1001',
      '1008',
      '1009',
      '1011',
      '1013',
      '4400',
      '4410',
    ])
    expect(Object.keys(doc.components.schemas)).toContain('kmem.kmem_scan_mm_end')
    expect(doc.components.schemas['kmem.kmem_scan_mm_end'].properties.fields.required).toEqual([
      'mm',
      'start',
      'total',
      'scan_period',
      'scan_size',
      'target_node',
    ])
  })
})

describe('frames of a real session', () => {
  let s: Served
  beforeAll(async () => {
    s = await serve({
      hub: { heartbeatMs: 30, statsMs: 30, highWaterBytes: 16 * 1024, ringCapacity: 50_000 },
    })
  })
  afterAll(() => s.close())

  it('each validate against the payload schema of their message', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true })
    ajv.addSchema(doc, 'asyncapi')
    const check = (m: Msg) => {
      const v = ajv.getSchema(
        `asyncapi#/components/schemas/${m.type[0].toUpperCase()}${m.type.slice(1)}`,
      )
      expect(v, m.type).toBeDefined()
      expect(v?.(m), `${m.type}: ${JSON.stringify(v?.errors?.slice(0, 3))}`).toBe(true)
    }
    const json = await Client.open(s.url)
    const text = await Client.open(`${s.url}?format=text`)
    const slow = await Client.open(s.url)
    slow.ws.pause()
    await json.waitFor((m) => m.type === 'snapshot', 'snapshot')
    await pump(s, 150_000, [json])
    await until(
      () => json.of('heartbeat').length > 0 && json.of('stats').length > 0,
      'heartbeat and stats',
    )
    json.send({ type: 'subscribe', events: ['kmem:*'], pids: [1000] })
    json.send({ type: 'nonsense' })
    await json.waitFor((m) => m.type === 'error', 'error')
    json.send({ type: 'subscribe', since: { epoch: s.hub.ring.epoch, seq: 0 } })
    await json.closed
    slow.ws.resume()
    await until(() => slow.of('lost').length > 0, 'a lost report')
    const seen = new Set<string>()
    for (const m of [...json.msgs, ...text.msgs, ...slow.msgs]) {
      check(m)
      seen.add(m.type)
    }
    expect([...seen].sort()).toEqual([...SENT].sort())
  })
})
