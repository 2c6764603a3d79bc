/** /proc/PID/status of the simulated processes. (/proc/vmstat is in the sysfs table.) */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { HttpError } from '../src/http/errors.ts'
import { sendRepresentation } from '../src/http/representation.ts'
import { KernelError } from '../src/kernel/errors.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { PidParams } from '../src/schemas/processes.ts'
import { formatStatus, kthreadStatus, lookupProcess, processStatus } from '../src/views/process.ts'

const Status = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .describe('the status fields; sizes in kB')
  .meta({ id: 'ProcStatus' })

export const procRoutes: FastifyPluginAsyncZod = async (app) => {
  const { kernel } = app
  // Like /proc itself: a pid that is not running has no directory (ENOENT, not ESRCH).
  const procEntry = (pid: string) => {
    try {
      return lookupProcess(kernel, pid)
    } catch (err) {
      if (err instanceof KernelError && err.code === 'ESRCH')
        throw new HttpError('ENOENT', err.message)
      throw err
    }
  }
  app.get(
    '/proc/:pid/status',
    {
      schema: {
        tags: ['proc'],
        operationId: 'readProcStatus',
        summary: '/proc/PID/status, with the PTEAScanScale line of V3',
        description:
          'A plausible status file: Name, State, Pid, PPid, the Vm*/Rss* sizes of the ' +
          "process's VMAs, then `PTEAScanScale:\\t       8` (its prctl scan scale, " +
          'right-aligned in width 8) after VmSwap, as patch 15 prints it. For a kernel thread ' +
          '(kscand, kmigrated, kswapdN while they run): `Kthread:\\t1`, PPid 2, no Vm* lines.',
        params: PidParams,
        response: { 200: textOrJson(Status, 'the status file'), ...errors(404) },
      },
    },
    (req, reply) => {
      // A running kernel thread has a /proc entry too (a stopped one has exited).
      const t = kernel.threads().find((x) => String(x.pid) === req.params.pid && x.gen)
      const fields = t ? kthreadStatus(kernel, t) : processStatus(kernel, procEntry(req.params.pid))
      sendRepresentation(req, reply, formatStatus(fields), () => fields)
    },
  )
}
