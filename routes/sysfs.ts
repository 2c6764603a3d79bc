/**
 * The sysfs tree (and /proc/vmstat), generated from the table in src/sysfs/table.ts: one GET
 * route per file and directory, PUT and POST on writable files. Writes take the body as curl
 * sends it, or JSON `{"value": …}`, and answer with the new value.
 */
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { auditWrite } from '../src/audit.ts'
import { HttpError } from '../src/http-errors.ts'
import { BODY_LIMIT } from '../src/limits.ts'
import { checkIfMatch, sendRepresentation } from '../src/representation.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { Directory, fileJson, IfMatch, writeBody } from '../src/schemas/sysfs.ts'
import { formatMode, type SysfsFile } from '../src/sysfs/file.ts'
import { sysfsDirectories, sysfsTable } from '../src/sysfs/table.ts'
import { writtenText } from '../src/sysfs/written.ts'

const operationId = (verb: string, path: string) =>
  `${verb}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`

const firstSentence = (doc: string) => doc.split(/(?<=\.)\s/)[0]

export const sysfsRoutes: FastifyPluginAsyncZod = async (app) => {
  const { kernel } = app
  const files = sysfsTable(kernel)
  const byPath = new Map(files.map((f) => [f.path, f]))

  const fileJsonOf = (f: SysfsFile) => ({ path: f.path, mode: formatMode(f.mode), value: f.json() })

  for (const f of files) {
    const tag = f.path.startsWith('/proc/') ? 'proc' : 'sysfs'
    const modeNote = f.write
      ? `Mode 0644; writes are parsed with ${f.parser}.`
      : 'Mode 0444: a write answers 403 EACCES, as opening it for writing fails even for root.'
    const ok = textOrJson(fileJson(f.value), 'the file content')
    const show = (req: FastifyRequest, reply: Parameters<typeof sendRepresentation>[1]) =>
      sendRepresentation(req, reply, f.show(), () => fileJsonOf(f))

    app.get(
      f.path,
      {
        schema: {
          tags: [tag],
          operationId: operationId('read', f.path),
          summary: firstSentence(f.doc),
          description: `${f.doc}\n\n${modeNote}`,
          response: { 200: ok },
        },
      },
      (req, reply) => show(req, reply),
    )

    const write = f.write
    if (write) {
      for (const method of ['PUT', 'POST'] as const) {
        app.route({
          method,
          url: f.path,
          bodyLimit: BODY_LIMIT,
          onRequest: app.writeGuard,
          schema: {
            tags: [tag],
            operationId: operationId(method === 'PUT' ? 'write' : 'post', f.path),
            summary: `Write ${f.path.split('/').pop()}`,
            description:
              `${f.doc}\n\nThe body is what \`echo\` would write: \`curl -d 1\`, ` +
              '`curl --data-binary 1`, `echo 1 | curl -T - URL` (PUT), or JSON ' +
              '`{"value": 1}`. A rejected write changes nothing and answers with the errno ' +
              'the store returns (the text form is `write error: Invalid argument`).',
            security: [{ bearer: [] }],
            headers: IfMatch,
            body: writeBody,
            response: { 200: ok, ...errors(400, 401, 412, 413, 415) },
          },
          handler: (req, reply) => {
            const text = writtenText(req.body)
            const old = f.show()
            checkIfMatch(req, old)
            write(text)
            const now = f.show()
            auditWrite(kernel, req, f.path, old.trimEnd(), now.trimEnd())
            show(req, reply)
          },
        })
      }
    } else {
      app.route({
        method: ['PUT', 'POST'],
        url: f.path,
        bodyLimit: BODY_LIMIT,
        schema: { hide: true },
        config: { refuses: true },
        handler: () => {
          throw new HttpError('EACCES', `${f.path} is read-only (mode 0444)`)
        },
      })
    }
    app.all(f.path.concat('/'), { schema: { hide: true }, config: { refuses: true } }, () => {
      throw new HttpError('ENOTDIR', `${f.path} is a file`)
    })
  }

  for (const [dir, names] of sysfsDirectories(files)) {
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
    const handler = (req: FastifyRequest, reply: Parameters<typeof sendRepresentation>[1]) => {
      // The tag covers the files' values, which the JSON listing carries.
      const state = sorted.map((n) => byPath.get(`${dir}/${n}`)?.show() ?? n).join('')
      sendRepresentation(req, reply, text, () => ({ path: dir, entries: entries() }), state)
    }
    app.get(
      dir,
      {
        schema: {
          tags: ['sysfs'],
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
    app.get(`${dir}/`, { schema: { hide: true } }, handler)
  }
}
