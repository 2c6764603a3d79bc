/**
 * The event hub as a plugin: `fastify.events` is the hub (ring, fan-out, trace_pipe) fed by
 * the app's kernel, shut down when the server closes. GET /events and the tracefs files
 * (app.ts registers them) serve it.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { EventHub, type HubOptions } from '../events/hub.ts'

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
      files: fastify.sysfs,
      onError: opts.onError ?? ((err) => fastify.log.error({ err }, 'event stream')),
    })
  fastify.decorate('events', hub)
  fastify.addHook('preClose', async () => hub.shutdown())
}

/** Not encapsulated: `events` is visible where it is registered. */
export const eventStream = fp(eventStreamPlugin, { name: 'kscand-sim-events' })
