/**
 * Simulated processes: list, spawn (exec), fork, exit, and the PTE A-bit scan scale prctl
 * (docs/spec/kscand-v3.md §6) over HTTP. The kernel validates every spec and argument before it
 * changes anything, so a rejected request leaves the machine as it was.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { describeProcess, prctl } from '../src/experiments/commands.ts'
import { auditWrite } from '../src/http/audit.ts'
import { BODY_LIMIT, PROCESS_BODY_LIMIT } from '../src/http/limits.ts'
import { columns, keyValueText, sendRepresentation } from '../src/http/representation.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import {
  Exited,
  PidParams,
  PrctlRequest,
  PrctlResult,
  ProcessDetail,
  ProcessList,
  ProcessSpecSchema,
  type ProcessSummary,
} from '../src/schemas/processes.ts'
import { lookupProcess, processDetail, processSummary } from '../src/views/process.ts'

function psTable(rows: readonly ProcessSummary[]): string {
  return columns([
    ['PID', 'PPID', 'COMM', 'RSS_KB', 'PAGES_PER_NODE', 'SCALE', 'TOPTIER_HIT', 'STALLED'],
    ...rows.map((p) => [
      String(p.pid),
      p.ppid === null ? '-' : String(p.ppid),
      p.comm,
      String(p.pages * 4),
      p.pages_per_node.join('/'),
      String(p.pte_scan_scale),
      p.top_tier_hit_ratio === null ? '-' : `${(p.top_tier_hit_ratio * 100).toFixed(1)}%`,
      p.stall?.cause ?? '-',
    ]),
  ])
}

export const processRoutes: FastifyPluginAsyncZod = async (app) => {
  const { kernel } = app
  const created = textOrJson(ProcessDetail, 'the new process as GET Location shows it')

  app.get(
    '/processes',
    {
      schema: {
        tags: ['processes'],
        operationId: 'listProcesses',
        summary: 'Every simulated process, ps-like',
        response: { 200: textOrJson(ProcessList, 'one line (or object) per process') },
      },
    },
    (req, reply) => {
      const list = kernel.processList().map((p) => processSummary(kernel, p))
      sendRepresentation(req, reply, psTable(list), () => list)
    },
  )

  app.post(
    '/processes',
    {
      onRequest: app.writeGuard,
      bodyLimit: PROCESS_BODY_LIMIT,
      schema: {
        tags: ['processes'],
        operationId: 'spawnProcess',
        summary: 'Spawn a process (execve): layout, placement policy, workload, access rate',
        description:
          'Pages are placed at once by the policy; kscand registers the mm and first scans it ' +
          'after twice the NUMA-balancing scan delay. ENOMEM (507) when the allowed nodes ' +
          'lack the memory, ENOSPC (507) at MAX_PROCESSES, E2BIG (413) past MAX_VMAS or when ' +
          'the state file could not hold the process; nothing changes then.',
        security: [{ bearer: [] }],
        body: ProcessSpecSchema,
        response: { 201: created, ...errors(400, 401, 413, 507) },
      },
    },
    (req, reply) => {
      const p = kernel.exec(req.body)
      auditWrite(kernel, req, '/processes', '-', describeProcess(p), {
        do: 'spawn',
        spec: req.body,
      })
      const d = processDetail(kernel, p)
      reply.code(201).header('location', `/processes/${p.pid}`)
      sendRepresentation(req, reply, `${p.pid}\n`, () => d)
    },
  )

  app.get(
    '/processes/:pid',
    {
      schema: {
        tags: ['processes'],
        operationId: 'getProcess',
        summary: 'One process: placement, scan state, migration state and quality metrics',
        params: PidParams,
        response: { 200: textOrJson(ProcessDetail, 'the process'), ...errors(404) },
      },
    },
    (req, reply) => {
      const d = processDetail(kernel, lookupProcess(kernel, req.params.pid))
      // scan and migration print their fields as lines of their own (their names say whose
      // they are); the stall as three lines, its reason a sentence.
      const { scan, migration, stall, ...rest } = d
      const flat = {
        ...rest,
        ...scan,
        ...migration,
        stalled: stall?.cause,
        stall_reason: stall?.reason,
        stall_remedy: stall?.remedy,
      }
      sendRepresentation(req, reply, keyValueText(flat), () => d)
    },
  )

  app.delete(
    '/processes/:pid',
    {
      onRequest: app.writeGuard,
      schema: {
        tags: ['processes'],
        operationId: 'exitProcess',
        summary:
          'exit(): kscand forgets the mm (docs/spec/kscand-v3.md §7.2) and its pages are freed',
        security: [{ bearer: [] }],
        params: PidParams,
        response: { 200: textOrJson(Exited, 'the process is gone'), ...errors(401, 404) },
      },
    },
    async (req, reply) => {
      const p = lookupProcess(kernel, req.params.pid)
      // An exit cannot be undone: the state file forgets the process first (persist.ts).
      await app.persistence?.saveAsync(p)
      kernel.exit(p.pid)
      auditWrite(kernel, req, `/processes/${p.pid}`, describeProcess(p), 'exited', {
        do: 'exit',
        process: p.pid,
      })
      sendRepresentation(req, reply, `${p.pid}: exited\n`, () => ({ pid: p.pid, exited: true }))
    },
  )

  app.post(
    '/processes/:pid/fork',
    {
      onRequest: app.writeGuard,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['processes'],
        operationId: 'forkProcess',
        summary: 'fork(): a child with the same layout, policy and workload',
        description:
          'The child starts with pte_scan_scale 8: it is not inherited (docs/spec/kscand-v3.md §6).',
        security: [{ bearer: [] }],
        params: PidParams,
        response: { 201: created, ...errors(401, 404, 413, 507) },
      },
    },
    (req, reply) => {
      const parent = lookupProcess(kernel, req.params.pid)
      const child = kernel.fork(parent.pid)
      auditWrite(kernel, req, `/processes/${parent.pid}/fork`, '-', describeProcess(child), {
        do: 'fork',
        process: parent.pid,
      })
      reply.code(201).header('location', `/processes/${child.pid}`)
      const d = processDetail(kernel, child)
      sendRepresentation(req, reply, `${child.pid}\n`, () => d)
    },
  )

  app.post(
    '/processes/:pid/prctl',
    {
      onRequest: app.writeGuard,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['processes'],
        operationId: 'prctl',
        summary: 'prctl(PR_SET_PTE_A_SCAN_SCALE | PR_GET_PTE_A_SCAN_SCALE, …) as the process',
        description:
          'SET (79): arg3..arg5 must be 0, else EINVAL; arg2 is cast to unsigned int and ' +
          'clamped to [0, 10] (99 → 10), not rejected. GET (80): arg2..arg5 must be 0; the ' +
          'result is the scale. 0 disables scanning of the mm; a higher scale lengthens its ' +
          'scan period (×(8+scale)/9).',
        security: [{ bearer: [] }],
        params: PidParams,
        body: PrctlRequest,
        response: { 200: textOrJson(PrctlResult, 'the syscall result'), ...errors(400, 401, 404) },
      },
    },
    (req, reply) => {
      const p = lookupProcess(kernel, req.params.pid)
      const { result, written } = prctl(kernel, p, req.body)
      if (written) {
        auditWrite(kernel, req, written.path, written.old, written.next, {
          do: 'prctl',
          process: p.pid,
          ...req.body,
        })
      }
      sendRepresentation(req, reply, `${result}\n`, () => ({ result }))
    },
  )
}
