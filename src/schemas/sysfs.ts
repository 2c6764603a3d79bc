/** Shapes of the sysfs-style files: a file read as JSON, a directory, a JSON write. */
import { type ZodType, z } from 'zod'

export const Mode = z
  .string()
  .regex(/^0[0-7]{3}$/)
  .describe('file mode in octal, as ls shows it')

/** A file read as JSON; `value` has the file's own type. */
export function fileJson(value: ZodType) {
  return z.object({ path: z.string(), mode: Mode, value })
}

export const DirEntry = z
  .object({
    name: z.string(),
    type: z.enum(['file', 'dir']),
    mode: Mode.optional(),
    value: z.unknown().optional().describe('the file content as JSON (files only)'),
    doc: z.string().optional(),
    extension: z.boolean().optional().describe('a kscand-sim extension, not a V3 file'),
  })
  .meta({ id: 'DirEntry' })

export const Directory = z
  .object({ path: z.string(), entries: z.array(DirEntry) })
  .meta({ id: 'Directory' })

export const SysfsWrite = z
  .strictObject({
    value: z
      .union([z.string(), z.number(), z.boolean()])
      .describe(
        'a string is written as is (as `printf`); an integer as its decimal digits (up to ' +
          '2^53, send larger ones as a string); true/false as 1/0',
      ),
  })
  .describe('a write as JSON')

export type SysfsWrite = z.infer<typeof SysfsWrite>

/** A write as curl sends it: `-d`, `--data-binary`, `-T -`, or JSON. */
export const writeBody = {
  content: {
    'application/x-www-form-urlencoded': {
      schema: z.string().describe('the raw bytes, as `curl -d 100` sends them'),
    },
    'text/plain': { schema: z.string().describe('the raw bytes') },
    'application/octet-stream': { schema: z.string().describe('the raw bytes') },
    'application/json': { schema: SysfsWrite },
  },
}

export const IfMatch = z.looseObject({
  'if-match': z
    .string()
    .optional()
    .describe('ETag of a previous read: the write fails with 412 if the file changed since'),
})
