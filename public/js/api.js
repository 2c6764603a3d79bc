/**
 * The REST API as the page uses it: JSON in and out (`Accept: application/json`), errors as
 * the daemon's `{errno, code, message, detail}` bodies, and the write token once the daemon
 * has asked for one (a 401).
 */

const TOKEN_KEY = 'kscand-sim.token'

class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{errno?: number, code?: string, message?: string, detail?: string} | null} body
   */
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.detail = body?.detail ?? ''
  }
}

export const auth = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  /** Called when a write was refused for want of a (valid) token. */
  onNeeded: () => {},
  set(token) {
    this.token = token
    sessionStorage.setItem(TOKEN_KEY, token)
  },
}

/** `method path` with an optional JSON body; resolves to the JSON answer. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (auth.token) headers.authorization = `Bearer ${auth.token}`
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const data = await res.json().catch(() => null)
  if (res.status === 401) auth.onNeeded()
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}
