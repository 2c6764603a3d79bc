/**
 * The sysfs tree (and /proc/vmstat), generated from the table in src/sysfs/table.ts: one GET
 * route per file and directory, PUT and POST on writable files. Writes take the body as curl
 * sends it, or JSON `{"value": …}`, and answer with the new value.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { HttpError } from '../src/http/errors.ts'
import { operationId } from '../src/http/openapi.ts'
import { sysfsDirectories } from '../src/sysfs/table.ts'
import { serveDirectory, serveFile } from './files.ts'

const firstSentence = (doc: string) => doc.split(/(?<=\.)\s/)[0]

export const sysfsRoutes: FastifyPluginAsyncZod = async (app) => {
  const files = app.sysfs
  const byPath = new Map(files.map((f) => [f.path, f]))

  for (const f of files) {
    const modeNote = f.write
      ? `Mode 0644; writes are parsed with ${f.parser}.`
      : 'Mode 0444: a write answers 403 EACCES, as opening it for writing fails even for root.'
    serveFile(app, f, {
      tag: f.path.startsWith('/proc/') ? 'proc' : 'sysfs',
      read: {
        operationId: operationId('read', f.path),
        summary: firstSentence(f.doc),
        description: `${f.doc}\n\n${modeNote}`,
      },
      write: {
        operationIds: { PUT: operationId('write', f.path), POST: operationId('post', f.path) },
        summary: `Write ${f.path.split('/').pop()}`,
        description:
          `${f.doc}\n\nThe body is what \`echo\` would write: \`curl -d 1\`, ` +
          '`curl --data-binary 1`, `echo 1 | curl -T - URL` (PUT), or JSON ' +
          '`{"value": 1}`. A rejected write changes nothing and answers with the errno ' +
          'the store returns (the text form is `write error: Invalid argument`).',
        errors: [400, 401, 412, 413, 415],
        ifMatch: true,
      },
    })
    app.all(f.path.concat('/'), { schema: { hide: true }, config: { refuses: true } }, () => {
      throw new HttpError('ENOTDIR', `${f.path} is a file`)
    })
  }

  for (const [dir, names] of sysfsDirectories(files)) {
    // /proc lists the processes too: routes/proc.ts serves it.
    if (dir === '/proc') continue
    serveDirectory(app, dir, names, byPath, dir.startsWith('/proc/') ? 'proc' : 'sysfs')
  }
}
