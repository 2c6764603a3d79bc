/**
 * The event stream as one plugin: the hub (ring, fan-out, trace_pipe) fed by the app's
 * kernel, GET /events and the tracefs files. Register it where the zod compilers are
 * (the app's `api` scope); `fastify.events` is the hub.
 */
import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import { eventsRoutes, handleProtocols } from '../../routes/events.ts'
import { tracingRoutes } from '../../routes/tracing.ts'
import { EventHub, type HubOptions } from './hub.ts'
import { CLOSE, MAX_CLIENT_FRAME } from './protocol.ts'

export interface EventStreamOptions extends HubOptions {
  /** A hub made by the caller (tests, benchmarks); by default one is made for the kernel. */
  readonly hub?: EventHub
  /** Streams one client address may have open at once. */
  readonly maxStreamsPerAddress?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    events: EventHub
  }
}

async function eventStreamPlugin(
  fastify: FastifyInstance,
  opts: EventStreamOptions,
): Promise<void> {
  const hub =
    opts.hub ??
    new EventHub(fastify.kernel, {
      ...opts,
      onError: opts.onError ?? ((err) => fastify.log.error({ err }, 'event stream')),
    })
  fastify.decorate('events', hub)
  fastify.metrics?.feedEventStream(() => hub.stats())
  fastify.addHook('preClose', async () => hub.shutdown())
  await fastify.register(websocket, {
    options: { maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false, handleProtocols },
    errorHandler: (err, socket, req) => {
      req.log.error({ err }, 'event stream')
      socket.close(CLOSE.internal.code, 'server error')
    },
  })
  await fastify.register(eventsRoutes, { hub, maxStreamsPerAddress: opts.maxStreamsPerAddress })
  await fastify.register(tracingRoutes, { hub })
}

/** Not encapsulated, like fastify-plugin: `events` is visible where it is registered. */
export const eventStream = Object.assign(eventStreamPlugin, {
  [Symbol.for('skip-override')]: true,
})
