/**
 * The writable sysfs files as a form, one row each. A write sends the text as typed (JSON
 * `{"value": "…"}`, written as `printf` would), so the kernel's own parser decides: a
 * rejected value shows the kernel's error text and the file keeps its value; a value the
 * store clamps shows what it became.
 */
import { api } from './api.js'
import { el, setText } from './dom.js'

const show = (v) => String(v)

export class TunablesForm {
  constructor(host) {
    this.host = host
    /** @type {Map<string, {row: HTMLElement, input: HTMLInputElement, status: HTMLElement}>} */
    this.rows = new Map()
  }

  /** Rebuilds the form from a snapshot's `tunables` (path → value). */
  load(tunables) {
    this.host.replaceChildren()
    this.rows.clear()
    let group = ''
    for (const [path, value] of Object.entries(tunables)) {
      const dir = path.slice(0, path.lastIndexOf('/'))
      if (dir !== group) {
        group = dir
        this.host.append(el('h3', { class: 'group' }, `${dir}/`))
      }
      const id = `tunable-${path.replace(/[^a-z0-9]+/gi, '-')}`
      const input = el('input', {
        id,
        name: 'value',
        value: show(value),
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': `${id}-status`,
      })
      const status = el('output', { id: `${id}-status`, class: 'status', for: id })
      const row = el(
        'form',
        { class: 'tunable', dataset: { path, value: show(value) } },
        el('label', { for: id, title: path }, path.slice(dir.length + 1)),
        input,
        el('button', { type: 'submit' }, 'Set'),
        status,
      )
      row.addEventListener('submit', (e) => {
        e.preventDefault()
        this.write(path)
      })
      this.host.append(row)
      this.rows.set(path, { row, input, status })
    }
  }

  has(path) {
    return this.rows.has(path)
  }

  /** The file's current value; the input follows unless the user is editing it. */
  set(path, value) {
    const r = this.rows.get(path)
    if (!r) return
    const was = r.row.dataset.value
    r.row.dataset.value = show(value)
    if (document.activeElement !== r.input || r.input.value === was) r.input.value = show(value)
  }

  /** Another client wrote the file (a sysfs_write event): read it back as JSON. */
  async refresh(path) {
    try {
      this.set(path, (await api('GET', path)).value)
    } catch {
      // The next snapshot has it; a read that failed here changes nothing on the page.
    }
  }

  async write(path) {
    const r = this.rows.get(path)
    const typed = r.input.value
    try {
      const { value } = await api('PUT', path, { value: typed })
      this.set(path, value)
      r.input.value = show(value)
      const clamped = typeof value === 'number' && Number(typed) !== value
      this.status(
        r,
        clamped ? 'clamped' : 'ok',
        clamped ? `clamped to ${value}` : `set to ${value}`,
      )
    } catch (err) {
      // The file keeps its value: show it again, with the kernel's words for the refusal.
      r.input.value = r.row.dataset.value
      this.status(r, 'error', `${JSON.stringify(typed)}: ${err.message}`, err.detail)
    }
  }

  status(r, kind, text, title = '') {
    r.status.dataset.kind = kind
    r.status.title = title
    setText(r.status, text)
  }
}
