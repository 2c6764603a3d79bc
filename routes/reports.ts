/**
 * The runs `kscand-sim run` wrote under REPORTS_DIR, read-only, for the dashboard's
 * Experiments panel: a bounded list and each run's summary.json and report.html
 * (src/host/reports.ts checks every name and path).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listReports, readReportFile } from '../src/host/reports.ts'
import { HttpError } from '../src/http/errors.ts'
import { errors } from '../src/schemas/common.ts'
import { ReportList, ReportParams } from '../src/schemas/reports.ts'

/**
 * report.html is one self-contained file with inline scripts and styles. Sandboxed without
 * allow-same-origin it runs as an opaque origin: it cannot read or write this daemon's API.
 */
const REPORT_CSP =
  "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; " +
  "style-src 'unsafe-inline'; img-src data:"

export const reportsRoutes: FastifyPluginAsyncZod<{ dir?: string }> = async (app, { dir }) => {
  app.get(
    '/sim/reports',
    {
      schema: {
        tags: ['sim'],
        operationId: 'listReports',
        summary: 'The newest runs under REPORTS_DIR (summary.json of each)',
        response: {
          200: {
            description: 'the reports',
            content: { 'application/json': { schema: ReportList } },
          },
        },
      },
    },
    (_req, reply) => {
      const reports = dir === undefined ? [] : listReports(dir)
      reply
        .header('cache-control', 'no-store')
        .send({ reports_dir_set: dir !== undefined, reports })
    },
  )

  app.get(
    '/sim/reports/:name/:file',
    {
      schema: {
        tags: ['sim'],
        operationId: 'getReportFile',
        summary: "One run's summary.json or report.html, as kscand-sim run wrote it",
        params: ReportParams,
        response: {
          200: {
            description: 'the file',
            content: {
              'application/json': { schema: z.unknown() },
              'text/html': { schema: z.string() },
            },
          },
          ...errors(404, 413),
        },
      },
    },
    async (req, reply) => {
      const { name, file } = req.params
      if (dir === undefined) throw new HttpError('ENOENT', 'REPORTS_DIR is not set')
      const body = await readReportFile(dir, name, file)
      reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff')
      if (file === 'report.html') {
        reply.header('content-security-policy', REPORT_CSP).type('text/html; charset=utf-8')
      } else reply.type('application/json; charset=utf-8')
      return reply.send(body)
    },
  )
}
