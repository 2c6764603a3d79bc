/** GET /sim/reports and the files of one report (src/host/reports.ts). */
import { z } from 'zod'

export const REPORT_FILES = ['summary.json', 'report.html'] as const
export type ReportFile = (typeof REPORT_FILES)[number]
/** Reports GET /sim/reports lists, the newest first. */
export const MAX_REPORTS = 20

export const ReportSummary = z
  .object({
    name: z.string().describe("the run's folder under REPORTS_DIR"),
    scenario: z.string().describe("summary.json's scenario"),
    seed: z.number().nullable(),
    ended: z.string().nullable().describe('duration, budgets_spent or limit'),
    virtual_ms: z.number().nullable(),
    written_at: z.string().describe('when summary.json was written (ISO 8601)'),
    files: z.array(z.enum(REPORT_FILES)).describe('the files of it the daemon serves'),
  })
  .meta({ id: 'ReportSummary' })
export type ReportSummary = z.infer<typeof ReportSummary>

export const ReportList = z
  .object({
    reports_dir_set: z.boolean().describe('REPORTS_DIR is set; if not, the list is empty'),
    reports: z.array(ReportSummary).describe(`the newest first, at most ${MAX_REPORTS}`),
  })
  .meta({ id: 'ReportList' })

export const ReportParams = z.strictObject({
  name: z.string().min(1).max(64),
  file: z.enum(REPORT_FILES),
})
