/**
 * Graceful shutdown on SIGTERM/SIGINT (and on a fatal error), in this order:
 *
 * 1. /readyz answers 503 (after SHUTDOWN_DRAIN_MS, for load balancers to notice);
 * 2. the simulation stops (a clock step in flight stops where it got to and answers 503);
 * 3. `server.close()`: websocket subscribers get close 1001, the listener closes (new
 *    connections are refused), requests in flight finish, idle keep-alives are closed;
 *    websockets that have not closed after SHUTDOWN_WS_GRACE_MS (a client that stopped
 *    reading never answers the close) are cut;
 * 4. the state file is flushed (every accepted write was already saved before its answer);
 * 5. exit 0.
 *
 * Exit codes: 0 after a clean stop; 1 when SHUTDOWN_TIMEOUT_MS passes first, on a second
 * signal during the shutdown (it exits at once) and after a fatal error.
 */
import type { Duplex } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import type { Persistence } from '../host/persist.ts'
import type { SimRunner } from '../host/runner.ts'
import type { Lifecycle } from './lifecycle.ts'

export const EXIT = {
  ok: 0,
  /** Fatal error, shutdown timeout, or a second signal. */
  failed: 1,
  /** Bad command line, environment, config file or state file. */
  config: 2,
  /** The address cannot be listened on (in use, not permitted). */
  listen: 3,
} as const

export interface ShutdownOptions {
  readonly server: FastifyInstance
  readonly lifecycle: Lifecycle
  readonly runner: SimRunner
  readonly persistence?: Persistence | null
  readonly timeoutMs: number
  readonly drainMs: number
  readonly wsGraceMs: number
}

/** The sockets of upgraded (websocket) connections that are still open. */
function trackUpgrades(server: FastifyInstance): Set<Duplex> {
  const sockets = new Set<Duplex>()
  server.server.on('upgrade', (_req, socket: Duplex) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  return sockets
}

/** Installs the signal handlers; call it before `listen()`. */
export function installShutdown(opts: ShutdownOptions): void {
  const { server, lifecycle } = opts
  const log = server.log
  const upgraded = trackUpgrades(server)
  closeWithGrace(
    {
      delay: opts.timeoutMs,
      logger: false,
      onSecondSignal: (signal) => log.error(`second ${signal} during shutdown: exiting now (1)`),
      onSecondError: (err) => log.error({ err }, 'second fatal error during shutdown'),
      onTimeout: (ms) => log.error(`shutdown did not finish within ${ms} ms: exiting (1)`),
    },
    async ({ signal, err }) => {
      if (err) log.error({ err }, 'fatal error: shutting down')
      else log.info({ signal }, 'shutting down')
      lifecycle.phase = 'stopping'
      if (opts.drainMs > 0) await sleep(opts.drainMs)
      opts.runner.close()
      const cut = setTimeout(() => {
        if (upgraded.size > 0) log.warn(`cutting ${upgraded.size} websocket(s) that did not close`)
        for (const socket of upgraded) socket.destroy()
      }, opts.wsGraceMs)
      try {
        await server.close()
      } finally {
        clearTimeout(cut)
      }
      opts.persistence?.save()
      log.info('stopped')
    },
  )
}
