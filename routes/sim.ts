/** Simulated time: read the clock, change mode and speed, step N virtual ms. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { auditWrite } from '../src/audit.ts'
import { BODY_LIMIT } from '../src/limits.ts'
import { keyValueText, sendRepresentation } from '../src/representation.ts'
import type { RunnerStatus, SimRunner } from '../src/runner.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { SimStatus, SimStep, SimUpdate } from '../src/schemas/sim.ts'

const statusText = (s: RunnerStatus) =>
  keyValueText({ now_ms: s.now, mode: s.mode, speed: s.speed, lag_ms: s.lagMs, seed: s.seed })

const setting = (r: SimRunner) => `mode=${r.status().mode} speed=${r.status().speed}`

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
      auditWrite(kernel, req, '/sim', old, setting(runner))
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
          'The step runs in bounded slices of wall time, so other requests are served meanwhile.',
        security: [{ bearer: [] }],
        body: SimStep,
        response: { 200: ok, ...errors(400, 401, 413) },
      },
    },
    async (req, reply) => {
      const before = kernel.now
      await runner.step(req.body.ms)
      auditWrite(kernel, req, '/sim/step', `now=${before}`, `now=${kernel.now}`)
      sendStatus(req, reply)
    },
  )
}
