/**
 * The OpenAPI document's hand-written parts (info, tags, security) and the schema transform.
 * Everything else in openapi.yaml comes from the routes' zod schemas; `npm run openapi`
 * regenerates it and test/openapi.test.ts holds it true.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { type ZodType, z } from 'zod'

export const swaggerDocument: FastifyDynamicSwaggerOptions['openapi'] = {
  openapi: '3.1.0',
  info: {
    title: 'kscand-sim',
    version: '0.1.0',
    description:
      'A simulated tiered-memory machine running the kscand/kmigrated kernel threads of the ' +
      'RFC V3 series, served like sysfs: `curl` a file to read it as `cat` would, write it ' +
      'as `echo` would. Every resource also speaks JSON (`Accept: application/json`). ' +
      'Errors carry the errno a kernel would return; the text form is what a shell prints ' +
      '(`write error: Invalid argument`).',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: 'http://127.0.0.1:8080', description: 'npm start' }],
  tags: [
    { name: 'sysfs', description: 'Tunables and topology under /sys, one route per file.' },
    { name: 'proc', description: '/proc/vmstat and /proc/PID/status.' },
    { name: 'threads', description: 'The simulated kernel threads: state, start, stop.' },
    { name: 'processes', description: 'Simulated processes: spawn, list, exit, prctl.' },
    { name: 'sim', description: 'Simulated time: mode, speed, stepping.' },
  ],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'Needed for every write when the server has KSCAND_SIM_TOKEN set.',
      },
    },
  },
}

interface ContentMap {
  content: Record<string, { schema: ZodType }>
}

const isContentMap = (body: unknown): body is ContentMap =>
  typeof body === 'object' && body !== null && 'content' in body

/**
 * fastify-type-provider-zod's transform, extended to request bodies given per content type
 * (`body: { content: { 'text/plain': { schema }, 'application/json': { schema } } }`), which
 * fastify validates by media type but the library's transform does not convert.
 */
export const openapiTransform: typeof jsonSchemaTransform = (doc) => {
  const body = doc.schema?.body
  if (!isContentMap(body)) return jsonSchemaTransform(doc)
  const out = jsonSchemaTransform({ ...doc, schema: { ...doc.schema, body: undefined } })
  const content = Object.fromEntries(
    Object.entries(body.content).map(([type, { schema }]) => [
      type,
      { schema: z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) },
    ]),
  )
  return { ...out, schema: { ...out.schema, body: { content } } }
}
