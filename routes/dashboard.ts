/**
 * The dashboard at GET /: the files of public/ and uPlot's two files, read once when the
 * plugin registers and served from memory by explicit GET routes (no @fastify/static, no
 * CDN). The page's scripts are files, never inline, so helmet's `script-src 'self'` holds.
 * Register it outside the zod scope: these are not API routes and stay out of openapi.yaml.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/** public/ at the package root: one level up from routes/, two from dist/routes/. */
function publicDir(): string {
  for (const up of ['../public', '../../public']) {
    const dir = fileURLToPath(new URL(up, import.meta.url))
    if (existsSync(join(dir, 'index.html'))) return dir
  }
  throw new Error('dashboard: public/index.html not found beside routes/ or dist/routes/')
}

interface Asset {
  readonly url: string
  readonly type: string
  readonly body: Buffer
}

function readAssets(): Asset[] {
  const dir = publicDir()
  const assets = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => TYPES[extname(f)] !== undefined)
    .map((f) => {
      const path = join(dir, f)
      const url = `/${relative(dir, path).split(sep).join('/')}`
      return {
        url: url === '/index.html' ? '/' : url,
        type: TYPES[extname(f)],
        body: readFileSync(path),
      }
    })
  const require = createRequire(import.meta.url)
  for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) {
    assets.push({
      url: `/vendor/${file}`,
      type: TYPES[extname(file)],
      body: readFileSync(require.resolve(`uplot/dist/${file}`)),
    })
  }
  return assets
}

export async function dashboardRoutes(fastify: FastifyInstance): Promise<void> {
  // Files only, no state: readable without the read token (the page asks for it).
  const asset = { schema: { hide: true }, config: { public: true } }
  for (const a of readAssets()) {
    fastify.get(a.url, asset, (_req, reply) =>
      // no-cache: revalidate, so a restarted (maybe upgraded) daemon serves its own page.
      reply.type(a.type).header('cache-control', 'no-cache').send(a.body),
    )
  }
  // Browsers ask for it whatever the page links; without a route the console shows a 404.
  fastify.get('/favicon.ico', asset, (_req, reply) => reply.code(204).send())
}
