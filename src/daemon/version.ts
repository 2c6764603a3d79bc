/**
 * The package's version, read from the package.json above this module: the checkout's in
 * src/, the image's /app/package.json in dist/src/ (`kscand-sim --version`).
 */
import { existsSync, readFileSync } from 'node:fs'

function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const file = new URL('package.json', dir)
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    if (dir.pathname === '/') throw new Error(`no package.json above ${import.meta.url}`)
  }
}

export const VERSION = packageVersion()
