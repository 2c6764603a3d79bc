/** A one-line summary of the simulated machine, for headless runs. */
import type { Kernel } from './kernel/kernel.ts'

export function statusLine(k: Kernel): string {
  const v = k.vmstat
  const procs = k
    .processList()
    .map((p) => {
      const s = k.processStats(p.pid)
      const hit = s.topTierHitRatio === null ? '-' : `${(s.topTierHitRatio * 100).toFixed(1)}%`
      return `${p.comm}[${p.pid}] nodes=${s.pagesPerNode.join('/')} hit=${hit} period=${s.scan?.scan_period ?? '-'}`
    })
    .join(' ')
  return (
    `t=${(k.now / 1000).toFixed(1)}s mm_scans=${v.get('nr_kscand_mm_scans')} ` +
    `migadded=${v.get('nr_kscand_migadded')} migrated=${v.get('nr_kscand_migrated')} ` +
    `failed=${v.get('nr_kscand_migrate_failed')} demoted=${v.get('pgdemote_kswapd')} ${procs}`
  )
}
