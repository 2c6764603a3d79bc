/**
 * The routes of one file of the table (src/sysfs/table.ts), sysfs and tracefs alike: GET
 * reads it as `cat` shows it (or JSON), PUT and POST write it as `echo` would (writable
 * files, behind the write guard), and a write to a read-only file answers 403 EACCES. What
 * differs between the trees is only how the OpenAPI document describes them. And the
 * listing of a directory of either tree.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { TRACEFS } from '../src/events/tracefs.ts'
import { auditWrite } from '../src/http/audit.ts'
import { HttpError } from '../src/http/errors.ts'
import { BODY_LIMIT } from '../src/http/limits.ts'
import { operationId } from '../src/http/openapi.ts'
import { checkIfMatch, sendRepresentation } from '../src/http/representation.ts'
import { type ErrorStatus, errors, textOrJson } from '../src/schemas/common.ts'
import { Directory, fileJson, IfMatch, writeBody } from '../src/schemas/sysfs.ts'
import { formatMode, type SysfsFile } from '../src/sysfs/file.ts'
import { writtenText } from '../src/sysfs/written.ts'

type App = Parameters<FastifyPluginAsyncZod>[0]

/** How the OpenAPI document describes a file's routes. */
export interface FileDocs {
  readonly tag: string
  readonly read: {
    readonly operationId: string
    readonly summary: string
    readonly description: string
  }
  readonly write: {
    readonly operationIds?: { readonly PUT: string; readonly POST: string }
    readonly summary: string
    readonly description: string
    readonly errors: readonly ErrorStatus[]
    /** The write takes If-Match (412 ESTALE when the file changed meanwhile). */
    readonly ifMatch: boolean
  }
}

/** Mode 0444: opening for writing fails with EACCES, even for root. */
export function refuseWrites(app: App, path: string): void {
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
}

export function serveFile(app: App, f: SysfsFile, docs: FileDocs): void {
  const ok = textOrJson(fileJson(f.value), 'the file content')
  const show = (req: FastifyRequest, reply: FastifyReply) =>
    sendRepresentation(req, reply, f.show(), () => ({
      path: f.path,
      mode: formatMode(f.mode),
      value: f.json(),
    }))
  app.get(f.path, { schema: { tags: [docs.tag], ...docs.read, response: { 200: ok } } }, show)

  const write = f.write
  if (!write) {
    refuseWrites(app, f.path)
    return
  }
  const w = docs.write
  const traced = f.path.startsWith(`${TRACEFS}/`)
  const route = (method: 'PUT' | 'POST' | ('PUT' | 'POST')[], operationId?: string) =>
    app.route({
      method,
      url: f.path,
      bodyLimit: BODY_LIMIT,
      onRequest: app.writeGuard,
      schema: {
        tags: [docs.tag],
        ...(operationId && { operationId }),
        summary: w.summary,
        description: w.description,
        security: [{ bearer: [] }],
        ...(w.ifMatch && { headers: IfMatch }),
        body: writeBody,
        response: { 200: ok, ...errors(...w.errors) },
      },
      handler: (req, reply) => {
        const text = writtenText(req.body)
        if (w.ifMatch) checkIfMatch(req, f.show())
        const brief = f.brief ?? f.show
        const old = brief()
        write(text, req.method === 'POST')
        // tracefs chooses what is observed, not what is simulated: no command, only its
        // trace line is recorded (recording.ts).
        // A zero-length write that changed nothing (a sysfs store never saw it) is no write.
        if (text !== '' || brief() !== old) {
          const command = traced ? null : { do: 'write' as const, path: f.path, value: text }
          auditWrite(app.kernel, req, f.path, old.trimEnd(), brief().trimEnd(), command)
        }
        show(req, reply)
      },
    })
  // PUT and POST are one operation unless each has an id of its own.
  if (!w.operationIds) route(['PUT', 'POST'])
  else for (const m of ['PUT', 'POST'] as const) route(m, w.operationIds[m])
}

/**
 * GET of a directory: the names of its files and subdirectories, one per line as `ls`
 * prints them (sorted); as JSON, each file with its value, mode and doc.
 */
export function serveDirectory(
  app: App,
  dir: string,
  names: Iterable<string>,
  byPath: ReadonlyMap<string, SysfsFile>,
  tag: string,
): void {
  const sorted = [...names].sort()
  const entries = () =>
    sorted.map((name) => {
      const f = byPath.get(`${dir}/${name}`)
      return f
        ? {
            name,
            type: 'file' as const,
            mode: formatMode(f.mode),
            value: f.json(),
            doc: f.doc,
            extension: f.extension,
          }
        : { name, type: 'dir' as const }
    })
  const text = sorted.map((n) => `${n}\n`).join('')
  const handler = (req: FastifyRequest, reply: FastifyReply) => {
    // The tag covers the files' values, which the JSON listing carries.
    const state = sorted
      .map((n) => {
        const f = byPath.get(`${dir}/${n}`)
        return f ? (f.brief ?? f.show)() : n
      })
      .join('')
    sendRepresentation(req, reply, text, () => ({ path: dir, entries: entries() }), state)
  }
  app.get(
    dir,
    {
      config: { directory: true },
      schema: {
        tags: [tag],
        operationId: operationId('list', dir),
        summary: `List ${dir}`,
        description:
          'Names of the files and subdirectories, one per line as `ls` prints them; as ' +
          'JSON, each file with its value, mode and doc.',
        response: { 200: textOrJson(Directory, 'the directory listing') },
      },
    },
    handler,
  )
  app.get(`${dir}/`, { schema: { hide: true }, config: { directory: true } }, handler)
}
