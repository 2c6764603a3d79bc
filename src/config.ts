/**
 * The process's configuration from the environment, parsed once. The operations issue adds
 * the rest; this is what the control plane needs: where to listen and who may write.
 */
import { isIP } from 'node:net'
import { z } from 'zod'

const Env = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  KSCAND_SIM_TOKEN: z.string().min(1).optional(),
  KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: z.stringbool().default(false),
  SPEED: z.coerce.number().positive().default(1),
})

export type Config = z.infer<typeof Env>

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/**
 * Parses the environment. Throws when the server would accept anonymous writes from the
 * network: a non-loopback HOST needs KSCAND_SIM_TOKEN or KSCAND_SIM_ALLOW_ANONYMOUS_WRITES=1.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = Env.safeParse(env)
  if (!parsed.success) throw new Error(`bad environment:\n${z.prettifyError(parsed.error)}`)
  const config = parsed.data
  if (
    !isLoopback(config.HOST) &&
    !config.KSCAND_SIM_TOKEN &&
    !config.KSCAND_SIM_ALLOW_ANONYMOUS_WRITES
  ) {
    throw new Error(
      `refusing to listen on ${config.HOST} without a write token: set KSCAND_SIM_TOKEN, ` +
        'or KSCAND_SIM_ALLOW_ANONYMOUS_WRITES=1 to let anyone who can reach it write',
    )
  }
  return config
}
