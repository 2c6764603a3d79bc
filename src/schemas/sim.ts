/** Simulated time: GET /sim, PUT /sim, POST /sim/step. */
import { z } from 'zod'

/** The fastest the runner may go: virtual ms per wall ms. */
export const MAX_SPEED = 1e6

export const RunMode = z
  .enum(['realtime', 'paused', 'afap'])
  .describe(
    'realtime: virtual time follows the wall clock × speed; paused: only steps move it; afap: as fast as possible',
  )

export const SimStatus = z
  .object({
    now: z.number().describe('virtual time, ms since boot'),
    mode: RunMode,
    speed: z.number().describe('virtual ms per wall ms in realtime mode'),
    lag_ms: z.number().describe('virtual ms the simulation is behind its realtime target'),
    seed: z.number().int().describe('the kernel seed: same seed and commands, same trace'),
  })
  .meta({ id: 'SimStatus' })

export const SimUpdate = z
  .strictObject({
    mode: RunMode.optional(),
    speed: z.number().positive().max(MAX_SPEED).optional(),
  })
  .meta({ id: 'SimUpdate' })

/** A step is bounded so one request cannot hold the simulation for hours of wall time. */
export const MAX_STEP_MS = 3_600_000

export const SimStep = z
  .strictObject({
    ms: z.number().int().min(1).max(MAX_STEP_MS).describe('virtual ms to advance'),
  })
  .meta({ id: 'SimStep' })
