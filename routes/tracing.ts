/**
 * tracefs over HTTP, at /sys/kernel/tracing: trace_pipe (a consuming stream for `curl -N`),
 * tracing_on, buffer_size_kb, per_cpu/cpu0/stats and the enable files of every declared
 * event, its system and all events. Files read as `cat` shows them (or JSON); writes are
 * parsed as the kernel's handlers do (kstrtoul) and need the write token when one is set.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { type ZodType, z } from 'zod'
import { auditWrite } from '../src/audit.ts'
import { formatTimestamp } from '../src/events/format.ts'
import type { EventHub } from '../src/events/hub.ts'
import { MAX_CAPACITY, SLOT_BYTES } from '../src/events/ring.ts'
import { HttpError } from '../src/http-errors.ts'
import { EVENTS } from '../src/kernel/trace.ts'
import { BODY_LIMIT } from '../src/limits.ts'
import { sendRepresentation } from '../src/representation.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { fileJson, writeBody } from '../src/schemas/sysfs.ts'
import { cString, kstrtoul } from '../src/sysfs/kstrto.ts'
import { writtenText } from '../src/sysfs/written.ts'

export const TRACEFS = '/sys/kernel/tracing'

interface TraceFile {
  readonly path: string
  readonly doc: string
  readonly value: ZodType
  show(): string
  json(): unknown
  /** Parses and applies a write; throws (changing nothing) when the handler would fail. */
  write?(buf: string): void
}

/** kstrtoul_from_user(…, 10, &val), as the tracefs write handlers parse. */
function ulong(path: string, buf: string): bigint {
  const r = kstrtoul(cString(buf))
  if (!r.ok) throw new HttpError(r.err, `${path}: not an unsigned decimal number`)
  return r.value
}

/** Reads `0`, `1`, or `X` when the events disagree (events.rst). */
function enableState(on: Uint8Array, ids: readonly number[]): 0 | 1 | 'X' {
  const n = ids.reduce((s, id) => s + on[id], 0)
  return n === 0 ? 0 : n === ids.length ? 1 : 'X'
}

const ZeroOne = z.union([z.literal(0), z.literal(1)])

function enableFile(hub: EventHub, path: string, ids: readonly number[], doc: string): TraceFile {
  const on = hub.kernel.tracer.on
  return {
    path,
    doc,
    value: ids.length === 1 ? ZeroOne : z.union([ZeroOne, z.literal('X')]),
    show: () => `${enableState(on, ids)}\n`,
    json: () => enableState(on, ids),
    write: (buf) => {
      const v = ulong(path, buf)
      if (v > 1n) throw new HttpError('EINVAL', `${path}: write 0 or 1`)
      for (const id of ids) on[id] = Number(v)
    },
  }
}

const PipeStats = z.object({
  entries: z.number().int(),
  overrun: z.number().int(),
  'commit overrun': z.number().int(),
  bytes: z.number().int(),
  'oldest event ts': z.string(),
  'now ts': z.string(),
  'dropped events': z.number().int(),
  'read events': z.number().int(),
})

function tracefsFiles(hub: EventHub): TraceFile[] {
  const systems = [...new Set(EVENTS.map((e) => e.system))]
  const idsOf = (system: string) => EVENTS.flatMap((e, i) => (e.system === system ? [i] : []))
  const stats = () => {
    const s = hub.pipeStats()
    return {
      entries: s.entries,
      overrun: s.overrun,
      'commit overrun': 0,
      bytes: s.entries * SLOT_BYTES,
      'oldest event ts': formatTimestamp(s.oldestUs),
      'now ts': formatTimestamp(hub.kernel.now * 1000),
      'dropped events': 0,
      'read events': s.readEvents,
    }
  }
  return [
    {
      path: `${TRACEFS}/tracing_on`,
      doc: 'Whether events are recorded into the ring (1) or not (0); any non-zero write turns it on.',
      value: ZeroOne,
      show: () => `${Number(hub.tracingOn)}\n`,
      json: () => Number(hub.tracingOn),
      write: (buf) => hub.setTracingOn(ulong(`${TRACEFS}/tracing_on`, buf) !== 0n),
    },
    {
      path: `${TRACEFS}/buffer_size_kb`,
      doc:
        `Size of the ring in KiB (${SLOT_BYTES} bytes per event); a write resizes it, ` +
        'keeping the newest events that fit. 0 is EINVAL.',
      value: z.number().int(),
      show: () => `${hub.bufferKb}\n`,
      json: () => hub.bufferKb,
      write: (buf) => {
        const path = `${TRACEFS}/buffer_size_kb`
        const kb = ulong(path, buf)
        if (kb === 0n) throw new HttpError('EINVAL', `${path}: the size must be positive`)
        if ((kb * 1024n) / BigInt(SLOT_BYTES) > BigInt(MAX_CAPACITY)) {
          throw new HttpError('ENOMEM', `${path}: at most ${MAX_CAPACITY} events fit`)
        }
        hub.setBufferKb(Number(kb))
      },
    },
    {
      path: `${TRACEFS}/per_cpu/cpu0/stats`,
      doc:
        'The ring as trace_pipe sees it: unread entries, events overwritten before they were ' +
        'read (overrun) and events read.',
      value: PipeStats,
      show: () =>
        Object.entries(stats())
          .map(([k, v]) => `${k}: ${v}\n`)
          .join(''),
      json: stats,
    },
    enableFile(
      hub,
      `${TRACEFS}/events/enable`,
      EVENTS.map((_, i) => i),
      'Every event.',
    ),
    ...systems.map((s) =>
      enableFile(hub, `${TRACEFS}/events/${s}/enable`, idsOf(s), `Every ${s} event.`),
    ),
    ...EVENTS.map((e, i) =>
      enableFile(hub, `${TRACEFS}/events/${e.system}/${e.name}/enable`, [i], e.doc),
    ),
  ]
}

export const tracingRoutes: FastifyPluginAsyncZod<{ hub: EventHub }> = async (app, { hub }) => {
  const { kernel } = app

  /** Mode 0444: opening for writing fails with EACCES, even for root. */
  const readOnly = (path: string) =>
    app.route({
      method: ['PUT', 'POST'],
      url: path,
      bodyLimit: BODY_LIMIT,
      schema: { hide: true },
      config: { refuses: true },
      handler: () => {
        throw new HttpError('EACCES', `${path} is read-only (mode 0444)`)
      },
    })

  app.get(
    `${TRACEFS}/trace_pipe`,
    {
      // A HEAD would open a reader and consume events.
      exposeHeadRoute: false,
      schema: {
        tags: ['tracing'],
        operationId: 'readTracePipe',
        summary: 'Stream the trace as ftrace lines (`curl -N`), consuming them',
        description:
          'Blocks until events arrive and streams them as trace_pipe lines; events read here ' +
          'are consumed (another reader does not see them). When the ring overwrote events ' +
          'before they were read, a `CPU:0 [LOST N EVENTS]` line says how many.',
        response: {
          200: {
            description: 'the lines, never ending',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    (req, reply) => {
      // An idle pipe is not a dead connection.
      req.raw.socket?.setTimeout(0)
      const stream = hub.openPipe()
      reply.raw.on('close', () => stream.destroy())
      // The schema types the body as text; a stream of text is what is sent.
      reply
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(stream as unknown as string)
    },
  )
  // The headers a read would get, without opening a reader (which would consume events).
  const headSchema = {
    tags: ['tracing'],
    operationId: 'headTracePipe',
    summary: 'The headers of trace_pipe, without reading (so without consuming) anything',
  }
  app.head(`${TRACEFS}/trace_pipe`, { schema: headSchema }, (_req, reply) => {
    reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send()
  })
  readOnly(`${TRACEFS}/trace_pipe`)

  for (const f of tracefsFiles(hub)) {
    const mode = f.write ? '0644' : '0444'
    const show = (req: FastifyRequest, reply: FastifyReply) =>
      sendRepresentation(req, reply, f.show(), () => ({ path: f.path, mode, value: f.json() }))
    const ok = textOrJson(fileJson(f.value), 'the file content')
    const name = f.path.slice(TRACEFS.length + 1)
    app.get(
      f.path,
      {
        schema: {
          tags: ['tracing'],
          operationId: `readTracefs_${name.replace(/\W/g, '_')}`,
          summary: `Read ${name}`,
          description: f.doc,
          response: { 200: ok },
        },
      },
      show,
    )
    const write = f.write
    if (!write) {
      readOnly(f.path)
      continue
    }
    app.route({
      method: ['PUT', 'POST'],
      url: f.path,
      bodyLimit: BODY_LIMIT,
      onRequest: app.writeGuard,
      schema: {
        tags: ['tracing'],
        summary: `Write ${name}`,
        description: `${f.doc}\n\nThe body is what \`echo\` writes (\`curl -d 1\`) or JSON \`{"value": 1}\`.`,
        security: [{ bearer: [] }],
        body: writeBody,
        response: { 200: ok, ...errors(400, 401, 413, 507) },
      },
      handler: (req, reply) => {
        const old = f.show()
        write(writtenText(req.body))
        auditWrite(kernel, req, f.path, old.trimEnd(), f.show().trimEnd())
        show(req, reply)
      },
    })
  }
}
