/**
 * deploy/kubernetes/: every object passes the Kubernetes schema (kubernetes-models, the API's
 * OpenAPI schemas compiled to validators), and since those accept unknown fields, the fields a
 * sweep depends on are checked by name: an Indexed Job whose completions equal the shard
 * count its pods pass to --shard from JOB_COMPLETION_INDEX, each shard writing its own folder
 * on the shared volume that the merge Job's glob reads, and a scenario in the ConfigMap that
 * parses with at least as many cells as shards.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import { Pod } from 'kubernetes-models/v1/Pod'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { parseScenario } from '../../src/experiments/load.ts'
import { expandMatrix } from '../../src/experiments/matrix.ts'

const DIR = join(import.meta.dirname, '../../deploy/kubernetes')

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML until validated
type Obj = any

const docs = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS())

const MODELS: Record<string, new (o: Obj) => { validate(): void }> = {
  Job,
  ConfigMap,
  PersistentVolumeClaim,
  Pod,
}

const all = [...docs('sweep.yaml'), ...docs('merge-job.yaml')]
const byName = (kind: string, name: string) =>
  all.find((o) => o.kind === kind && o.metadata.name === name)
const env = (c: Obj, name: string) => c.env.find((e: Obj) => e.name === name)?.value

describe('deploy/kubernetes', () => {
  it('passes the Kubernetes schema, every object', () => {
    expect(all.map((o) => o.kind)).toEqual([
      'PersistentVolumeClaim',
      'ConfigMap',
      'Job',
      'Job',
      'Pod',
    ])
    for (const o of all) {
      const Model = MODELS[o.kind]
      expect(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow()
    }
    // The validator is live: a wrong type is caught.
    const job = structuredClone(byName('Job', 'kscand-sim-sweep'))
    job.spec.completions = 'four'
    expect(() => new Job(job).validate()).toThrow(/completions must be integer/)
  })

  it('runs shard i+1 of N in the pod of completion index i, into its own folder', () => {
    const job = byName('Job', 'kscand-sim-sweep')
    expect(job.apiVersion).toBe('batch/v1')
    expect(job.spec.completionMode).toBe('Indexed')
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions)
    const pod = job.spec.template.spec
    expect(pod.restartPolicy).toBe('Never')
    const [c] = pod.containers
    expect(Number(env(c, 'SHARDS'))).toBe(job.spec.completions)
    expect(c.command).toEqual(['/bin/sh', '-c'])
    const script = c.args[0]
    expect(script).toMatch(/^exec node bin\/kscand-sim\.js run \/scenario\/sweep\.yaml /)
    expect(script).toContain('--shard "$((JOB_COMPLETION_INDEX + 1))/$SHARDS"')
    expect(script).toContain('--out "/results/$RUN/shard-$JOB_COMPLETION_INDEX"')
    // The worker threads fit the CPUs the pod asks for.
    expect(Number(env(c, 'JOBS'))).toBe(Number(c.resources.requests.cpu))
    const mounts = Object.fromEntries(c.volumeMounts.map((m: Obj) => [m.name, m.mountPath]))
    expect(mounts).toEqual({ scenario: '/scenario', results: '/results' })
    const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v]))
    expect(volumes.scenario.configMap.name).toBe('kscand-sim-sweep-scenario')
    expect(volumes.results.persistentVolumeClaim.claimName).toBe('kscand-sim-results')
    expect(byName('PersistentVolumeClaim', 'kscand-sim-results').spec.accessModes).toEqual([
      'ReadWriteMany',
    ])
  })

  it("merges every shard's folder of the same run on the same volume", () => {
    const job = byName('Job', 'kscand-sim-sweep')
    const merge = byName('Job', 'kscand-sim-sweep-merge')
    const [c] = merge.spec.template.spec.containers
    const run = env(job.spec.template.spec.containers[0], 'RUN')
    expect(env(c, 'RUN')).toBe(run)
    expect(c.args[0]).toBe(
      'exec node bin/kscand-sim.js merge /results/"$RUN"/shard-* --out "/results/$RUN/merged"',
    )
    expect(c.volumeMounts).toEqual([{ name: 'results', mountPath: '/results' }])
    expect(merge.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(
      'kscand-sim-results',
    )
    const results = byName('Pod', 'kscand-sim-results')
    expect(results.spec.volumes[0].persistentVolumeClaim.claimName).toBe('kscand-sim-results')
  })

  it('ships a scenario with at least as many cells as shards', () => {
    const text = byName('ConfigMap', 'kscand-sim-sweep-scenario').data['sweep.yaml']
    const s = parseScenario(text, 'sweep.yaml')
    const cells = expandMatrix({ ...s, matrix: s.matrix! }, 'sweep.yaml')
    expect(cells.length).toBe(12)
    expect(cells.length).toBeGreaterThanOrEqual(byName('Job', 'kscand-sim-sweep').spec.completions)
  })
})
