/**
 * tracefs over HTTP, at /sys/kernel/tracing: trace_pipe (a consuming stream for `curl -N`),
 * the files of src/events/tracefs.ts (trace, set_event, the enable files, …), served by the
 * same routes as sysfs files (files.ts), and the listing of every tracefs directory.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { EventHub } from '../src/events/hub.ts'
import { TRACEFS, TRACEFS_STREAMS, tracefsFiles } from '../src/events/tracefs.ts'
import { directoriesOf } from '../src/sysfs/table.ts'
import { refuseWrites, serveDirectory, serveFile } from './files.ts'

export const tracingRoutes: FastifyPluginAsyncZod<{ hub: EventHub }> = async (app, { hub }) => {
  app.get(
    `${TRACEFS}/trace_pipe`,
    {
      // A HEAD would open a reader and consume events.
      exposeHeadRoute: false,
      schema: {
        tags: ['tracing'],
        operationId: 'readTracePipe',
        summary: 'Stream the trace as ftrace lines (`curl -N`), consuming them',
        description: TRACEFS_STREAMS[0].doc,
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
  refuseWrites(app, `${TRACEFS}/trace_pipe`)

  const files = tracefsFiles(hub)
  const paths = [...files.map((f) => f.path), ...TRACEFS_STREAMS.map((f) => `${TRACEFS}/${f.name}`)]
  const byPath = new Map(files.map((f) => [f.path, f]))
  for (const [dir, names] of directoriesOf(paths)) {
    if (dir === TRACEFS || dir.startsWith(`${TRACEFS}/`)) {
      serveDirectory(app, dir, names, byPath, 'tracing')
    }
  }

  for (const f of files) {
    const name = f.path.slice(TRACEFS.length + 1)
    serveFile(app, f, {
      tag: 'tracing',
      read: {
        operationId: `readTracefs_${name.replace(/\W/g, '_')}`,
        summary: `Read ${name}`,
        description: f.doc,
      },
      write: {
        summary: `Write ${name}`,
        description: `${f.doc}\n\nThe body is what \`echo\` writes (\`curl -d 1\`) or JSON \`{"value": 1}\`.`,
        errors: [400, 401, 413, 507],
        ifMatch: false,
      },
    })
  }
}
