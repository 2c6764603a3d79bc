/**
 * Simulated time: read the clock, change mode and speed, step N virtual ms; the history
 * of what the dashboard charts; and the session so far as a scenario (GET /sim/scenario,
 * src/http/recording.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { stringify as toYaml } from 'yaml'
import { z } from 'zod'
import { QueueFullError } from '../src/host/queue.ts'
import type { RunnerStatus, SimRunner } from '../src/host/runner.ts'
import { auditWrite } from '../src/http/audit.ts'
import { HttpError } from '../src/http/errors.ts'
import { BODY_LIMIT } from '../src/http/limits.ts'
import { acceptQuality } from '../src/http/negotiate.ts'
import { columns, keyValueText, sendRepresentation } from '../src/http/representation.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { History } from '../src/schemas/history.ts'
import { Scenario } from '../src/schemas/scenario.ts'
import { SimStatus, SimStep, SimUpdate } from '../src/schemas/sim.ts'
import { historyJson, historyRows } from '../src/views/history.ts'

const statusText = (s: RunnerStatus) => keyValueText({ ...s })

const setting = (r: SimRunner) => `mode=${r.status().mode} speed=${r.status().speed}`

/** Seconds a step turned away (queue full, shutting down) is told to wait. */
const STEP_RETRY_AFTER_S = 1

/** Aborts when the client goes away before its answer is sent. */
function disconnected(reply: FastifyReply): AbortSignal {
  const ac = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort()
  })
  return ac.signal
}

export const simRoutes: FastifyPluginAsyncZod = async (app) => {
  const { kernel, runner } = app
  const ok = textOrJson(SimStatus, 'the clock after the change')
  const sendStatus = (req: FastifyRequest, reply: FastifyReply) => {
    const s = runner.status()
    sendRepresentation(req, reply, statusText(s), () => s)
  }

  app.get(
    '/sim',
    {
      schema: {
        tags: ['sim'],
        operationId: 'getSim',
        summary: 'The virtual clock: now, mode, speed, lag and seed',
        response: { 200: textOrJson(SimStatus, 'the clock'), ...errors(404) },
      },
    },
    sendStatus,
  )

  app.get(
    '/sim/history',
    {
      schema: {
        tags: ['sim'],
        operationId: 'getSimHistory',
        summary: 'The last HISTORY_SECONDS virtual seconds of what the dashboard charts',
        description:
          'One sample per whole virtual second, kept by the kernel in fixed-size rings: ' +
          'promotion, migration-failure and demotion rates, kernel-thread CPU %, and per ' +
          'process (the first HISTORY_PROCESSES) pages per node, hit ratio, latency, ' +
          'scan_period and scan_size. The text form is a table of the machine-wide series.',
        response: { 200: textOrJson(History, 'the history, oldest sample first'), ...errors(404) },
      },
    },
    (req, reply) => {
      const h = historyJson(kernel)
      const text = columns(historyRows(h))
      sendRepresentation(req, reply, text, () => h, JSON.stringify(h))
    },
  )

  app.put(
    '/sim',
    {
      onRequest: app.writeGuard,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['sim'],
        operationId: 'putSim',
        summary: 'Pause, resume (mode realtime or afap) or change the speed',
        security: [{ bearer: [] }],
        body: SimUpdate,
        response: { 200: ok, ...errors(400, 401, 413) },
      },
    },
    (req, reply) => {
      const old = setting(runner)
      const { mode, speed } = req.body
      if (speed !== undefined) runner.setSpeed(speed)
      if (mode !== undefined) runner.setMode(mode)
      auditWrite(kernel, req, '/sim', old, setting(runner), null)
      sendStatus(req, reply)
    },
  )

  app.post(
    '/sim/step',
    {
      onRequest: app.writeGuard,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['sim'],
        operationId: 'stepSim',
        summary: 'Advance virtual time by N ms (in any mode); answers once it is done',
        description:
          'The step runs in bounded slices of wall time, so other requests are served ' +
          'meanwhile. Steps run one after the other; with STEP_QUEUE of them running or ' +
          'waiting, another gets 503 EAGAIN with Retry-After. A step whose client disconnects ' +
          'stops where it got to; one in flight at shutdown answers 503.',
        security: [{ bearer: [] }],
        body: SimStep,
        response: { 200: ok, ...errors(400, 401, 413, 503) },
      },
      // Steps have their own queue; they change nothing the state file holds.
      config: { unsaved: true },
    },
    async (req, reply) => {
      const before = kernel.now
      let end: Awaited<ReturnType<typeof runner.step>>
      try {
        end = await runner.step(req.body.ms, disconnected(reply))
      } catch (err) {
        if (!(err instanceof QueueFullError)) throw err
        reply.header('retry-after', STEP_RETRY_AFTER_S)
        throw new HttpError('EAGAIN', `steps queued (STEP_QUEUE): ${err.message}`, 503)
      }
      const after = `now=${kernel.now}${end === 'done' ? '' : ` (${end})`}`
      auditWrite(kernel, req, '/sim/step', `now=${before}`, after, null)
      if (end !== 'done') {
        reply.header('retry-after', STEP_RETRY_AFTER_S)
        const why = end === 'closed' ? 'the daemon is shutting down' : 'the client went away'
        throw new HttpError(
          'EAGAIN',
          `${why}: the step stopped at ${kernel.now} ms of ${before + req.body.ms}`,
          503,
        )
      }
      sendStatus(req, reply)
    },
  )

  app.get(
    '/sim/scenario',
    {
      schema: {
        tags: ['sim'],
        operationId: 'getSimScenario',
        summary: 'The session from boot to now as a scenario file, for `kscand-sim run`',
        description:
          'Seed, the machine booted, every accepted command with its virtual time, ' +
          'duration_ms = now and the enabled events as record.trace; run headless it gives ' +
          'the same trace (docs/experiments.md §7). YAML unless Accept ' +
          'prefers JSON; Content-Disposition names the file. 409 when there is no such ' +
          'scenario (a restored state file, the clock at 0), 413 when the commands outgrew ' +
          'RECORD_BYTES.',
        response: {
          200: {
            description: 'the scenario',
            content: {
              'application/yaml': { schema: z.string() },
              'application/json': { schema: Scenario },
            },
          },
          ...errors(409, 413),
        },
      },
    },
    (req, reply) => {
      const scenario = app.recording.scenario(kernel)
      const accept = req.headers.accept ?? '*/*'
      const json =
        acceptQuality(accept, 'application/json') > acceptQuality(accept, 'application/yaml')
      reply
        .header('vary', 'Accept')
        .header('cache-control', 'no-store')
        .header(
          'content-disposition',
          `attachment; filename="kscand-sim-session.${json ? 'json' : 'yaml'}"`,
        )
      if (json) reply.type('application/json; charset=utf-8').send(scenario)
      else reply.type('application/yaml; charset=utf-8').send(toYaml(scenario))
    },
  )
}
