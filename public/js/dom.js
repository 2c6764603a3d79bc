/** Building elements (text always as text, never as HTML) and formatting numbers. */

/**
 * `el('button', {class: 'x', dataset: {pid: 1}, onclick}, 'Stop')`: attributes, `dataset`,
 * `on*` listeners, and children (strings become text nodes; null and false are skipped).
 */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'dataset') Object.assign(e.dataset, v)
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
    else if (k === 'value') e.value = v
    else e.setAttribute(k, v === true ? '' : String(v))
  }
  e.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false))
  return e
}

/** Sets text only when it changed, so unchanged cells are not re-laid out every second. */
export function setText(e, text) {
  if (e.textContent !== text) e.textContent = text
}

export const pct = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`)

/** Virtual ms as seconds: 12345 → 12.345 s */
export const secs = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(3)} s`)

export function bytes(n) {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toPrecision(3)} GiB`
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toPrecision(3)} MiB`
  return `${+(n / 1024).toPrecision(3)} KiB`
}

export const PAGE = 4096
