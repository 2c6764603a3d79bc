/**
 * The one app builder of the tests: a fastify instance with the app registered on it, as
 * server.ts builds it (with `ops` for what production adds), with the log lines kept when
 * asked. The fixtures (http, events, ops, browser) build through it.
 */
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import { type AppOptions, app } from '../../src/app.ts'
import { frameworkErrors } from '../../src/http/errors.ts'

export interface AppServerOptions extends AppOptions {
  /** Keep the log (JSON lines, level info) in `logs`. */
  readonly log?: boolean
  /** Answer framework errors (bad %-escapes) like every other error, as server.ts does. */
  readonly frameworkErrors?: boolean
}

export interface AppServer {
  readonly server: FastifyInstance
  readonly logs: string[]
}

/** Registers the app on a fresh instance; the caller readies it or listens. */
export async function appServer(opts: AppServerOptions): Promise<AppServer> {
  const { log, frameworkErrors: answerFrameworkErrors, ...appOptions } = opts
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const server = Fastify({
    logger: log ? { level: 'info', stream } : false,
    ...(answerFrameworkErrors && { frameworkErrors }),
  })
  await server.register(app, appOptions)
  return { server, logs }
}
