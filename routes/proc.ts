/**
 * /proc/PID/status and /proc/PID/numa_maps of the simulated processes and kernel threads, and
 * the listings of /proc and /proc/PID. (/proc/vmstat and /proc/zoneinfo are in the sysfs
 * table.)
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { HttpError } from '../src/http/errors.ts'
import { sendRepresentation } from '../src/http/representation.ts'
import { KernelError } from '../src/kernel/errors.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { PidParams } from '../src/schemas/processes.ts'
import { Directory } from '../src/schemas/sysfs.ts'
import { sysfsDirectories } from '../src/sysfs/table.ts'
import {
  formatNumaMaps,
  formatStatus,
  kthreadStatus,
  lookupProcess,
  numaMaps,
  processStatus,
} from '../src/views/process.ts'

const Status = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .describe('the status fields; sizes in kB')
  .meta({ id: 'ProcStatus' })

const NumaMaps = z
  .array(
    z.object({
      start: z.string().describe('vm_start in hex'),
      policy: z.string().describe('mpol_to_str() of the VMA policy'),
      file: z.string().nullable(),
      anon: z.number().int(),
      dirty: z.number().int(),
      mapped: z.number().int().describe('pages the walk counted'),
      mapmax: z.number().int(),
      nodes: z.record(z.string(), z.number().int()).describe('N0, N2, …: pages per node'),
      kernelpagesize_kB: z.number().int(),
    }),
  )
  .meta({ id: 'ProcNumaMaps' })

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
  /** A running kernel thread has a /proc entry too (a stopped one has exited). */
  const kthreadOf = (pid: string) =>
    kernel.threads().find((x) => String(x.pid) === pid && x.gen !== null)
  const files = app.sysfs
  const tableEntries = [...(sysfsDirectories(files).get('/proc') ?? [])].map((name) => ({
    name,
    type: files.some((f) => f.path === `/proc/${name}`) ? ('file' as const) : ('dir' as const),
  }))
  const PID_FILES = ['numa_maps', 'status']
  /** `ls` order (C locale): bytewise. */
  const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  const listing = (path: string, entries: { name: string; type: 'file' | 'dir' }[]) => {
    entries.sort((a, b) => byteOrder(a.name, b.name))
    return { text: entries.map((e) => `${e.name}\n`).join(''), json: { path, entries } }
  }
  /** Listings are directories: a write to one is EISDIR (methods.ts). */
  const directory = { directory: true }
  const listingSchema = (summary: string, params?: typeof PidParams) => ({
    config: directory,
    schema: {
      tags: ['proc'],
      operationId: params ? 'listProcPid' : 'listProc',
      summary,
      description:
        'Names, one per line as `ls` prints them (C locale order); as JSON, each with its type.',
      ...(params ? { params } : {}),
      response: { 200: textOrJson(Directory, 'the directory listing'), ...errors(404) },
    },
  })

  const listProc = (req: FastifyRequest, reply: FastifyReply) => {
    const pids = [
      ...kernel.processList().map((p) => p.pid),
      ...kernel
        .threads()
        .filter((t) => t.gen)
        .map((t) => t.pid),
    ]
    const { text, json } = listing('/proc', [
      ...pids.map((pid) => ({ name: String(pid), type: 'dir' as const })),
      ...tableEntries,
    ])
    sendRepresentation(req, reply, text, () => json)
  }
  app.get(
    '/proc',
    listingSchema('List /proc: a directory per process and kernel thread, and the files'),
    listProc,
  )
  app.get('/proc/', { schema: { hide: true }, config: directory }, listProc)

  const listPid = (req: FastifyRequest<{ Params: { pid: string } }>, reply: FastifyReply) => {
    const { pid } = req.params
    if (!kthreadOf(pid)) procEntry(pid)
    const files = PID_FILES.map((name) => ({ name, type: 'file' as const }))
    const { text, json } = listing(`/proc/${pid}`, files)
    sendRepresentation(req, reply, text, () => json)
  }
  app.get('/proc/:pid', listingSchema('List /proc/PID', PidParams), listPid)
  app.get('/proc/:pid/', { schema: { hide: true, params: PidParams }, config: directory }, listPid)

  app.get(
    '/proc/:pid/numa_maps',
    {
      schema: {
        tags: ['proc'],
        operationId: 'readProcNumaMaps',
        summary: '/proc/PID/numa_maps: per VMA, its policy and pages per node',
        description:
          '`<start> <policy> [file=…] anon=N dirty=N [mapped=N] [mapmax=N] N0=… N2=… ' +
          "kernelpagesize_kB=4`, as show_numa_map() prints it. The policy is the VMA's own: " +
          '`default` under a task policy (numactl). A kernel thread has no mm: empty.',
        params: PidParams,
        response: { 200: textOrJson(NumaMaps, 'the numa_maps file'), ...errors(404) },
      },
    },
    (req, reply) => {
      const entries = kthreadOf(req.params.pid) ? [] : numaMaps(kernel, procEntry(req.params.pid))
      sendRepresentation(req, reply, formatNumaMaps(entries), () => entries)
    },
  )

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
      const t = kthreadOf(req.params.pid)
      const fields = t ? kthreadStatus(kernel, t) : processStatus(kernel, procEntry(req.params.pid))
      sendRepresentation(req, reply, formatStatus(fields), () => fields)
    },
  )
}
