/**
 * Reads: every resource is offered as the text `cat` would print (the default) or as JSON,
 * and carries an ETag. The tag is a hash of the text, so both representations of one state
 * share it (the JSON one carries a `-json` suffix, since strong tags differ per
 * representation); `If-Match` with either tag of the current state lets a write through.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from './errors.ts'
import { prefersJson } from './negotiate.ts'

/** FNV-1a over the UTF-16 code units: tiny values, so a fast 32-bit hash is enough. */
export function etagOf(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, '0')
}

function listedTags(header: string): string[] {
  return header.split(',').map((t) => t.trim())
}

function matchesAny(header: string, tag: string): boolean {
  return listedTags(header).some((t) => t === '*' || t === `"${tag}"` || t === `"${tag}-json"`)
}

/**
 * Sends `text` or `json()` by content negotiation, with ETag and 304 on If-None-Match. The
 * tag hashes `state`, which must cover everything either representation shows.
 */
export function sendRepresentation(
  req: FastifyRequest,
  reply: FastifyReply,
  text: string,
  json: () => unknown,
  state = text,
): void {
  const tag = etagOf(state)
  const asJson = prefersJson(req)
  reply.header('etag', asJson ? `"${tag}-json"` : `"${tag}"`).header('vary', 'Accept')
  const inm = req.headers['if-none-match']
  if (inm && matchesAny(inm, tag)) reply.code(304).send()
  else if (asJson) reply.type('application/json; charset=utf-8').send(json())
  else reply.type('text/plain; charset=utf-8').send(text)
}

/** Throws ESTALE (412) when If-Match is present and names no tag of the current text. */
export function checkIfMatch(req: FastifyRequest, currentText: string): void {
  const im = req.headers['if-match']
  if (im && !matchesAny(im, etagOf(currentText))) {
    throw new HttpError('ESTALE', `If-Match ${im} does not match the current ETag`)
  }
}

/**
 * A value on one line of text: `-` for none, an array's items joined by `/` (pages per node
 * `0/1024/512`), an object as `name=value` pairs with the names its JSON has (a workload
 * `pattern=hotset hot_fraction=0.1`), parenthesised when it sits inside another.
 */
function textValue(v: unknown, inner = false): string {
  if (v === null || v === undefined) return '-'
  if (Array.isArray(v)) return v.map((x) => textValue(x, true)).join('/')
  if (typeof v !== 'object') return String(v)
  const pairs = Object.entries(v).map(([k, x]) => `${k}=${textValue(x, true)}`)
  return inner ? `(${pairs.join(' ')})` : pairs.join(' ')
}

/** `name value` lines, the shape of /proc/vmstat, named as the JSON representation names them. */
export function keyValueText(obj: Record<string, unknown>): string {
  let s = ''
  for (const [k, v] of Object.entries(obj)) s += `${k} ${textValue(v)}\n`
  return s
}

/** A ps-like table: the header row, then one row per item, columns padded to align. */
export function columns(rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...column): spreading passes every row as an argument, which
  // overflows the stack past ~126 k rows.
  const widths = rows[0].map(() => 0)
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], r[i].length)
  }
  return rows
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i]))
          .join(' ')
          .trimEnd()}\n`,
    )
    .join('')
}
