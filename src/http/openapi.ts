/**
 * The OpenAPI document's hand-written parts (info, tags, security) and the transforms.
 * Everything else in openapi.yaml comes from the routes' zod schemas; `npm run openapi`
 * regenerates it, test/http/openapi.test.ts holds it true and lints it with @redocly/cli.
 */
import type { FastifyDynamicSwaggerOptions, SwaggerTransformObject } from '@fastify/swagger'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { type ZodType, z } from 'zod'
import { type ErrorStatus, errors } from '../schemas/common.ts'
import { TOKEN_PROTOCOL } from './auth.ts'

export const swaggerDocument: FastifyDynamicSwaggerOptions['openapi'] = {
  openapi: '3.1.0',
  info: {
    title: 'kscand-sim',
    version: '0.1.0',
    description:
      'A simulated tiered-memory machine running the kscand/kmigrated kernel threads of the ' +
      'RFC V3 series, served like sysfs: `curl` a file to read it as `cat` would, write it ' +
      'as `echo` would. Every resource also speaks JSON (`Accept: application/json`). ' +
      'Errors carry the errno a kernel would return; the text form is what a shell prints ' +
      '(`write error: Invalid argument`).',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: 'http://127.0.0.1:8080', description: 'npm start' }],
  tags: [
    { name: 'sysfs', description: 'Tunables and topology under /sys, one route per file.' },
    { name: 'proc', description: '/proc/vmstat and /proc/PID/status.' },
    { name: 'threads', description: 'The simulated kernel threads: state, start, stop.' },
    { name: 'processes', description: 'Simulated processes: spawn, list, exit, prctl.' },
    { name: 'sim', description: 'Simulated time: mode, speed, stepping.' },
    { name: 'tracing', description: 'tracefs under /sys/kernel/tracing: trace_pipe, switches.' },
    { name: 'events', description: 'The event stream, a websocket (asyncapi.yaml).' },
  ],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description:
          'The write token (KSCAND_SIM_TOKEN; with only a read token configured, that one): ' +
          'needed for every write when configured.',
      },
      readToken: {
        type: 'http',
        scheme: 'bearer',
        description:
          'The read token (KSCAND_SIM_READ_TOKEN): needed for every read and the event stream ' +
          'when configured (the write token does too). The stream also takes it as the ' +
          `subprotocol \`${TOKEN_PROTOCOL}<base64url(token)>\`, since browsers cannot set ` +
          'headers on a websocket. `{}` among the alternatives: open when none is configured.',
      },
    },
  },
}

interface ContentMap {
  content: Record<string, { schema: ZodType }>
}

const isContentMap = (body: unknown): body is ContentMap =>
  typeof body === 'object' && body !== null && 'content' in body

type Security = readonly Record<string, string[]>[]

/** Security of a read that declares none: open, or the read token when one is configured. */
const READ_SECURITY: Security = [{}, { readToken: [] }, { bearer: [] }]

const isRead = (method: string) => method === 'GET' || method === 'HEAD'

interface RouteSchema {
  hide?: boolean
  security?: Security
  response?: Record<string, unknown>
  body?: unknown
}

/**
 * What a route answers before its own code runs, added to what it declares: the Host check
 * of every request (421, browsers.ts), the Origin and Sec-Fetch-Site checks of whatever
 * changes state, websocket upgrades included (403), and 401 wherever a token may be needed
 * (auth.ts). A read that declares no security has READ_SECURITY; a write must declare its own.
 */
function withGuards(
  schema: RouteSchema,
  methods: readonly string[],
  url: string,
  upgrade: boolean,
): RouteSchema {
  const read = methods.every(isRead)
  if (!schema.security && !read)
    throw new Error(`${methods} ${url} changes state: declare its security`)
  const security = schema.security ?? READ_SECURITY
  const statuses: ErrorStatus[] = [421]
  if (!read || upgrade) statuses.push(403)
  if (security.some((r) => Object.keys(r).length > 0)) statuses.push(401)
  return { ...schema, security, response: { ...errors(...statuses), ...schema.response } }
}

/**
 * fastify-type-provider-zod's transform, after withGuards, extended to request bodies given
 * per content type (`body: { content: { 'text/plain': { schema }, 'application/json': { schema } } }`),
 * which fastify validates by media type but the library's transform does not convert.
 */
export const openapiTransform: typeof jsonSchemaTransform = (doc) => {
  const route = doc.route
  const own = doc.schema as RouteSchema | undefined
  const schema =
    own && !own.hide
      ? withGuards(own, [route.method].flat(), doc.url, route.wsHandler !== undefined)
      : own
  const body = schema?.body
  if (!isContentMap(body))
    return jsonSchemaTransform({ ...doc, schema: schema as typeof doc.schema })
  const out = jsonSchemaTransform({
    ...doc,
    schema: { ...schema, body: undefined } as typeof doc.schema,
  })
  const content = Object.fromEntries(
    Object.entries(body.content).map(([type, { schema }]) => [
      type,
      { schema: z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) },
    ]),
  )
  return { ...out, schema: { ...out.schema, body: { content } } }
}

/** The operationId of a route that names none: `${verb}${Path}`, e.g. `writeSysKernelTracingTracingOn`. */
export const operationId = (verb: string, path: string) =>
  `${verb}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`

/** The verb of a derived operationId, by HTTP method (a route taking PUT and POST gets two). */
const VERBS: Record<string, string> = {
  get: 'read',
  head: 'head',
  put: 'write',
  post: 'post',
  delete: 'delete',
  patch: 'patch',
}

interface Operation {
  operationId?: string
}

type Paths = Record<string, Record<string, Operation>>

/** Every `$ref` in `node`, as component schema names. */
function schemaRefs(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const v of node) schemaRefs(v, into)
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        into.add(v.slice('#/components/schemas/'.length))
      } else schemaRefs(v, into)
    }
  }
  return into
}

/**
 * The components fastify-type-provider-zod emits (an input and an output variant of every
 * schema with an id), then what every operation needs whatever its route says: an
 * operationId (derived from the method and path when the route names none), and only the
 * component schemas an operation uses (a request-only schema has no use for its output
 * variant).
 */
export const openapiTransformObject: SwaggerTransformObject = (documentObject) => {
  const doc = jsonSchemaTransformObject(documentObject) as {
    paths?: Paths
    components?: { schemas?: Record<string, unknown> }
  }
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      // A route's schema object is shared by all its methods: give each its own copy (also
      // so that no object is written twice, as a YAML anchor and aliases).
      const own: Operation = structuredClone(op)
      own.operationId ??= operationId(VERBS[method], path)
      ops[method] = own
    }
  }
  const schemas = doc.components?.schemas
  if (schemas) {
    const used = schemaRefs({ ...doc, components: { ...doc.components, schemas: {} } }, new Set())
    for (const name of used) schemaRefs(schemas[name], used)
    for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name]
  }
  return doc
}
