/**
 * What a write hands to a store: the body as curl sends it (a latin1 string, one char per
 * byte), or the `value` of a JSON write as the text `echo` would have written.
 */
import { einval } from '../kernel/errors.ts'
import { SysfsWrite } from '../schemas/sysfs.ts'

/** The bytes a write hands to the store: the raw body, or the JSON value as text. */
export function writtenText(body: unknown): string {
  if (typeof body === 'string') return body
  if (body === undefined || body === null) return ''
  const parsed = SysfsWrite.safeParse(body)
  if (!parsed.success) throw einval('a JSON write is {"value": string | number | boolean}')
  const v = parsed.data.value
  if (typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (Number.isSafeInteger(v)) return String(v)
  throw einval(`${v} is not an integer within ±2^53; send such values as a string`)
}
