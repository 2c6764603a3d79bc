/**
 * The HTTP control plane as a fastify plugin: `fastify.register(app, { kernel, runner, token })`.
 * server.ts runs it as a process (with `ops`, what production adds); tests register it on a
 * fresh instance and inject requests. This is the one place that registers routes and
 * plugins.
 *
 * Inside the plugin, every route plugin can reach the simulated kernel and its runner
 * (`fastify.kernel`, `fastify.runner`) and guards its writes with `{ onRequest:
 * fastify.writeGuard }`. The zod compilers live in the `api` scope only
 * (docs/spec/node-stack.md §1.4): route plugins that want zod schemas register there.
 */
import swagger from '@fastify/swagger'
import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { dashboardRoutes } from '../routes/dashboard.ts'
import { eventsRoutes, handleProtocols } from '../routes/events.ts'
import { healthRoutes } from '../routes/health.ts'
import { metricsRoutes } from '../routes/metrics.ts'
import { procRoutes } from '../routes/proc.ts'
import { processRoutes } from '../routes/processes.ts'
import { reportsRoutes } from '../routes/reports.ts'
import { simRoutes } from '../routes/sim.ts'
import { sysfsRoutes } from '../routes/sysfs.ts'
import { threadRoutes } from '../routes/threads.ts'
import { tracingRoutes } from '../routes/tracing.ts'
import { CLOSE, MAX_CLIENT_FRAME } from './events/protocol.ts'
import type { SimRunner } from './host/runner.ts'
import { asyncapiDocument } from './http/asyncapi.ts'
import { readGuard, type WriteGuard, writeGuard } from './http/auth.ts'
import { type BrowserPolicy, browserGuard, LOOPBACK_POLICY } from './http/browsers.ts'
import { HttpError, sendError, toHttpError } from './http/errors.ts'
import { BODY_LIMIT } from './http/limits.ts'
import { trackMethods } from './http/methods.ts'
import { openapiTransform, openapiTransformObject, swaggerDocument } from './http/openapi.ts'
import { type BootDescription, Recording } from './http/recording.ts'
import type { Kernel } from './kernel/kernel.ts'
import { type EventStreamOptions, eventStream } from './plugins/events.ts'
import { type OpsOptions, ops } from './plugins/ops.ts'
import { IfMatch } from './schemas/sysfs.ts'
import type { SysfsFile } from './sysfs/file.ts'
import { sysfsTable } from './sysfs/table.ts'

export interface AppOptions {
  readonly kernel: Kernel
  readonly runner: SimRunner
  /** The kernel's sysfs table, when the caller wrote through it already (boot); else built. */
  readonly files?: readonly SysfsFile[]
  /** Bearer token every write must carry; undefined lets anyone write. */
  readonly token?: string
  /** Bearer token every read and the stream must carry (auth.ts); undefined: reads are open. */
  readonly readToken?: string
  /** The Host and Origin rules (browsers.ts); default: a loopback daemon's. */
  readonly browsers?: BrowserPolicy
  /** GET /events and tracefs: ring size, slow-consumer policy, per-address cap. */
  readonly events?: EventStreamOptions
  /**
   * What the daemon booted, for GET /sim/scenario (http/recording.ts); absent: the session
   * cannot be given as a scenario. `maxBytes`: RECORD_BYTES.
   */
  readonly recording?: { readonly boot: BootDescription; readonly maxBytes?: number }
  /** REPORTS_DIR: where `kscand-sim run` wrote the runs GET /sim/reports lists; absent: none. */
  readonly reportsDir?: string
  /** Production: security headers, limits, overload shedding, metrics, probes, state file. */
  readonly ops?: OpsOptions
}

declare module 'fastify' {
  interface FastifyInstance {
    kernel: Kernel
    runner: SimRunner
    /** The sysfs table, built once per app: routes, the event stream and listings share it. */
    sysfs: readonly SysfsFile[]
    /** onRequest hook for any route that changes state. */
    writeGuard: WriteGuard
  }
}

/** Methods some route takes; others (PROPFIND, PURGE, TRACE…) are 501 on every URL. */
const ROUTED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * Not encapsulated, so that what ops adds (its hooks, `isUnderPressure`) is the server's
 * own; the control plane below is a scope of its own, with its error handling and parsers.
 */
export const app = fp(appPlugin, { name: 'kscand-sim' })

async function appPlugin(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  const production = opts.ops
  // On the root instance: the state file's hooks (ops) take back what a failed save undoes.
  fastify.decorate(
    'recording',
    new Recording(opts.recording?.boot ?? null, opts.recording?.maxBytes),
  )
  if (production) {
    // First, so that its hooks apply to every route. The probes and /metrics answer with
    // fastify's own error handling, outside the control plane's conventions, under the
    // app's Host rules; /metrics also needs the read token when there is one.
    await fastify.register(ops, production)
    await fastify.register(async (probes) => {
      probes.addHook('onRequest', browserGuard(opts.browsers ?? LOOPBACK_POLICY))
      await probes.register(healthRoutes, { kernel: opts.kernel, lifecycle: production.lifecycle })
      await probes.register(async (scraped) => {
        const reads = readGuard({ write: opts.token, read: opts.readToken })
        if (reads) scraped.addHook('onRequest', reads)
        await scraped.register(metricsRoutes, { metrics: production.metrics })
      })
    })
  }
  await fastify.register(controlPlane, opts)
}

async function controlPlane(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  fastify.decorate('kernel', opts.kernel)
  fastify.decorate('runner', opts.runner)
  fastify.decorate('sysfs', opts.files ?? sysfsTable(opts.kernel))
  const tokens = { write: opts.token, read: opts.readToken }
  fastify.decorate('writeGuard', writeGuard(tokens))
  // Before anything else: a request from a web page that is not ours goes no further.
  fastify.addHook('onRequest', browserGuard(opts.browsers ?? LOOPBACK_POLICY))
  const reads = readGuard(tokens)
  if (reads) fastify.addHook('onRequest', reads)
  // A websocket handshake answered over HTTP (refused above, before @fastify/websocket's
  // hooks saw it, or by a route) leaves its socket open: close it once the answer is out.
  fastify.addHook('onResponse', (req, _reply, done) => {
    if ((req.headers.upgrade ?? '').toLowerCase() === 'websocket') req.raw.socket.destroy()
    done()
  })

  // Bodies as curl sends them (form, text, octet-stream, none) arrive as a latin1 string,
  // one char per byte, so the kstrto* parsers see exactly the bytes written.
  fastify.removeContentTypeParser('text/plain')
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (_req, body: Buffer, done) => done(null, body.toString('latin1')),
  )

  fastify.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err)
    if (e.statusCode >= 500) req.log.error({ err }, 'request failed')
    return sendError(req, reply, e)
  })
  fastify.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      ROUTED_METHODS.has(req.method)
        ? new HttpError('ENOENT', `no such file or resource: ${req.url}`)
        : new HttpError('EOPNOTSUPP', `${req.method} is not a method this daemon takes`, 501),
    ),
  )

  const addMethodFallbacks = trackMethods(fastify)
  await fastify.register(swagger, {
    openapi: swaggerDocument,
    transform: openapiTransform,
    transformObject: openapiTransformObject,
  })

  await fastify.register(async (api) => {
    // If-Match is documented on every write, but any string is a valid value: no validator.
    type ZodRoute = Parameters<typeof validatorCompiler>[0]
    api.setValidatorCompiler((route) =>
      route.schema === IfMatch ? () => true : validatorCompiler(route as ZodRoute),
    )
    api.setSerializerCompiler(serializerCompiler)
    // Route plugins: one line each.
    await api.register(sysfsRoutes)
    await api.register(procRoutes)
    await api.register(threadRoutes)
    await api.register(processRoutes)
    await api.register(simRoutes)
    await api.register(reportsRoutes, { dir: opts.reportsDir })
    const events = opts.events ?? {}
    await api.register(eventStream, events)
    const hub = api.events
    opts.ops?.metrics.feedEventStream(() => hub.stats())
    await api.register(websocket, {
      options: { maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false, handleProtocols },
      errorHandler: (err, socket, req) => {
        req.log.error({ err }, 'event stream')
        socket.close(CLOSE.internal.code, 'server error')
      },
    })
    await api.register(eventsRoutes, { hub, maxStreamsPerAddress: events.maxStreamsPerAddress })
    await api.register(tracingRoutes, { hub })
  })
  // The dashboard at / (not an API route: outside the zod scope and openapi.yaml).
  await fastify.register(dashboardRoutes)
  // Documents itself: the same documents `npm run openapi` and `npm run asyncapi` write to
  // openapi.yaml and asyncapi.yaml (on the demo machine), from this app's routes and tables.
  const document = { schema: { hide: true }, config: { public: true } }
  fastify.get('/openapi.json', document, () => fastify.swagger())
  fastify.get('/openapi.yaml', document, (_req, reply) =>
    reply.type('application/yaml').send(fastify.swagger({ yaml: true })),
  )
  let asyncapi: string | undefined
  fastify.get('/asyncapi.yaml', document, (_req, reply) => {
    asyncapi ??= asyncapiDocument(fastify.sysfs)
    return reply.type('application/yaml').send(asyncapi)
  })
  // Last: 405 for every method a route above does not take.
  await addMethodFallbacks()
}
