/**
 * The reports the dashboard shows (docs/experiments.md §8): the folders
 * `kscand-sim run` wrote under REPORTS_DIR, each with its summary.json and, when written,
 * report.html. Read-only and bounded: at most MAX_SCANNED entries of the folder are looked
 * at, at most MAX_REPORTS listed (the newest), only real folders and regular files (no
 * symbolic links) inside it, and a name from a client is checked character by character
 * (no regex, no `/`, no leading dot), so nothing outside REPORTS_DIR can be reached.
 */
import { type Dirent, lstatSync, opendirSync, readFileSync } from 'node:fs'
import { lstat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { HttpError } from '../http/errors.ts'
import {
  MAX_REPORTS,
  REPORT_FILES,
  type ReportFile,
  type ReportSummary,
} from '../schemas/reports.ts'

/** Entries of REPORTS_DIR looked at per listing. */
export const MAX_SCANNED = 1000
export const MAX_NAME = 64
/** summary.json is a few KiB; report.html with its heatmaps a few MiB. */
const MAX_BYTES: Record<ReportFile, number> = {
  'summary.json': 1024 * 1024,
  'report.html': 32 * 1024 * 1024,
}

/** A run's folder name as `kscand-sim run` makes them: [A-Za-z0-9._-], not starting with a dot. */
export function isReportName(name: string): boolean {
  if (name.length < 1 || name.length > MAX_NAME || name[0] === '.') return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    const ok =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 45 ||
      c === 46 ||
      c === 95
    if (!ok) return false
  }
  return true
}

/** A regular file's size, or null (absent, a link, anything else). */
function regularSize(path: string): { size: number; mtimeMs: number } | null {
  try {
    const st = lstatSync(path)
    return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null
  } catch {
    return null
  }
}

function entries(dir: string): Dirent[] {
  const out: Dirent[] = []
  const d = opendirSync(dir)
  try {
    for (let e = d.readSync(); e !== null && out.length < MAX_SCANNED; e = d.readSync()) out.push(e)
  } finally {
    d.closeSync()
  }
  return out
}

/** The newest reports under `dir`; one whose summary.json does not parse is left out. */
export function listReports(dir: string): ReportSummary[] {
  let found: Dirent[]
  try {
    found = entries(dir)
  } catch (err) {
    throw new HttpError(
      'EIO',
      `REPORTS_DIR ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code}`,
    )
  }
  const reports: (ReportSummary & { mtimeMs: number })[] = []
  for (const e of found) {
    if (!e.isDirectory() || !isReportName(e.name)) continue
    const path = join(dir, e.name, 'summary.json')
    const st = regularSize(path)
    if (!st || st.size > MAX_BYTES['summary.json']) continue
    let s: Record<string, unknown>
    try {
      s = JSON.parse(readFileSync(path, 'utf8'))
    } catch {
      continue
    }
    reports.push({
      name: e.name,
      scenario: typeof s.scenario === 'string' ? s.scenario : e.name,
      seed: typeof s.seed === 'number' ? s.seed : null,
      ended: typeof s.ended === 'string' ? s.ended : null,
      virtual_ms: typeof s.virtual_ms === 'number' ? s.virtual_ms : null,
      written_at: new Date(st.mtimeMs).toISOString(),
      files: REPORT_FILES.filter((f) => regularSize(join(dir, e.name, f)) !== null),
      mtimeMs: st.mtimeMs,
    })
  }
  return reports
    .sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? -1 : 1))
    .slice(0, MAX_REPORTS)
    .map(({ mtimeMs: _, ...r }) => r)
}

/** One file of a report, read whole; ENOENT for anything but a regular file in a real folder. */
export async function readReportFile(dir: string, name: string, file: ReportFile): Promise<Buffer> {
  const missing = () => new HttpError('ENOENT', `no report ${name} with a ${file}`)
  if (!isReportName(name)) throw missing()
  try {
    if (!(await lstat(join(dir, name))).isDirectory()) throw missing()
    const path = join(dir, name, file)
    const st = await lstat(path)
    if (!st.isFile()) throw missing()
    if (st.size > MAX_BYTES[file]) {
      throw new HttpError(
        'E2BIG',
        `${name}/${file} is ${st.size} bytes; at most ${MAX_BYTES[file]}`,
      )
    }
    return await readFile(path)
  } catch (err) {
    if (err instanceof HttpError) throw err
    throw missing()
  }
}
