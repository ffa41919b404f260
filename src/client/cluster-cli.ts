// `poolpilot cluster …`: apply, list, status, scale, pause, resume, history, delete.
import { parseArgs } from 'node:util';
import { loadClusterSpecFile } from '../config/load';
import { formatDuration } from '../config/duration';
import type { AutoscalerStatus } from '../workflows/autoscaler';
import { applyCluster, clusterStatus, deleteCluster, listClusters, requestScale, setPaused } from './clusters';
import { connectClient } from './connection';
import { UsageError } from './errors';
import { uiLink, workflowIds } from './operations';

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatStatus(st: AutoscalerStatus): string {
  const lines = [
    `cluster ${st.cluster}: ${st.phase}${st.paused ? ' (paused)' : ''} — ${st.current} member(s), desired ${st.desired}, bounds [${st.min}, ${st.max}]`,
    `cooldown: scale-out ${formatDuration(st.cooldown.scaleOutMs)}, scale-in ${formatDuration(st.cooldown.scaleInMs)}`,
    `current operation: ${st.currentOperation ?? 'none'}${st.queue.length ? `; queued: ${st.queue.map((q) => `${q.kind} ${q.n} (${q.source})`).join(', ')}` : ''}`,
  ];
  if (st.lastError) lines.push(`error: ${st.lastError}`);
  if (st.recentPolls.length) {
    const lags = st.recentPolls.map((p) => p.lagMs).sort((a, b) => a - b);
    lines.push(`polls: ${st.iterations} so far; lag of the last ${lags.length}: median ${lags[Math.floor((lags.length - 1) / 2)]} ms, max ${lags[lags.length - 1]} ms`);
  }
  const metrics = Object.entries(st.metrics);
  if (metrics.length) {
    lines.push('', table(['METRIC', 'VALUE', 'READ AT', 'FAILING SINCE'], metrics.map(([k, v]) => [k, v.value !== undefined ? String(+v.value.toFixed(3)) : `error: ${v.error}`, v.at.slice(11, 19), v.failingSince?.slice(11, 19) ?? '-'])));
  }
  lines.push('', table(['MEMBER', 'IP', 'POWER', 'POOL', 'SESSIONS'], st.members.map((m) => [m.name, m.ip ?? '-', m.power, m.pool, String(m.sessions)])));
  const recent = st.decisions.slice(-8);
  if (recent.length) lines.push('', 'recent decisions:', ...recent.map((d) => `  ${d.at.slice(11, 19)} ${d.action} ${d.current}→${d.desired}: ${d.reason}`));
  return lines.join('\n');
}

export async function clusterCommand(sub: string | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      in: { type: 'string' },
      desired: { type: 'string' },
      'scale-to-zero': { type: 'boolean' },
    },
  });
  const name = positionals[0];
  const needName = () => {
    if (!name) throw new UsageError(`usage: poolpilot cluster ${sub} NAME`);
    return name;
  };
  const client = await connectClient();
  switch (sub) {
    case 'apply': {
      if (!values.file) throw new UsageError('usage: poolpilot cluster apply -f FILE');
      const loaded = loadClusterSpecFile(values.file);
      const { spec } = loaded;
      const r = await applyCluster(client, loaded);
      const id = workflowIds.autoscaler(spec.name);
      console.log(r.started ? `started ${id}` : `updated ${id}; changed: ${r.changed.join(', ') || 'nothing'}`);
      const link = uiLink(id);
      if (link) console.log(`Temporal UI: ${link}`);
      return 0;
    }
    case 'list': {
      const all = await listClusters(client);
      if (values.json) console.log(JSON.stringify(all, null, 2));
      else console.log(all.length ? table(['CLUSTER', 'PHASE', 'MEMBERS', 'DESIRED', 'MIN', 'MAX', 'OPERATION'], all.map((s) => [s.cluster, s.phase, String(s.current), String(s.desired), String(s.min), String(s.max), s.currentOperation ?? '-'])) : '(no clusters)');
      return 0;
    }
    case 'status': {
      const st = await clusterStatus(client, needName());
      console.log(values.json ? JSON.stringify(st, null, 2) : formatStatus(st));
      return 0;
    }
    case 'history': {
      const st = await clusterStatus(client, needName());
      if (values.json) {
        console.log(JSON.stringify({ runs: st.runs, decisions: st.decisions }, null, 2));
        return 0;
      }
      console.log(table(['STARTED', 'RUN', 'COUNT', 'OUTCOME'], st.runs.map((r) => [r.startedAt.slice(0, 19), r.workflowId, String(r.count), r.outcome ?? 'running'])));
      console.log('\ndecisions:');
      for (const d of st.decisions) console.log(`  ${d.at.slice(0, 19)} [${d.source}] ${d.action} ${d.current}→${d.desired}: ${d.reason}`);
      const link = uiLink(workflowIds.autoscaler(needName()));
      if (link) console.log(`\nevery run in the Temporal UI: filter by PoolpilotCluster = "${name}" — ${link.replace(/\/workflows\/.*/, '/workflows')}?query=${encodeURIComponent(`PoolpilotCluster="${name}"`)}`);
      return 0;
    }
    case 'scale': {
      const given = (['out', 'in', 'desired'] as const).filter((k) => values[k] !== undefined);
      if (given.length !== 1) throw new UsageError('usage: poolpilot cluster scale NAME (--out N | --in N | --desired N)');
      const key = given[0]!;
      const raw = values[key]!;
      const n = Number(raw);
      if (!/^\d+$/.test(raw)) throw new UsageError(`--${key} must be a whole number, not "${raw}"`);
      const kind = key === 'out' ? 'scale-out' : key === 'in' ? 'scale-in' : 'set-desired';
      const r = await requestScale(client, needName(), kind, n, 'cli');
      console.log(`accepted: ${kind} ${n}; ${r.position ? `${r.position} request(s) ahead; ` : ''}cluster ${name} will have ${r.projected} member(s)`);
      return 0;
    }
    case 'pause':
    case 'resume': {
      await setPaused(client, needName(), sub === 'pause');
      console.log(`${name}: automatic decisions ${sub === 'pause' ? 'paused (manual requests still run)' : 'resumed'}`);
      return 0;
    }
    case 'delete': {
      const r = await deleteCluster(client, needName(), { scaleToZero: !!values['scale-to-zero'] });
      console.log(
        values['scale-to-zero']
          ? `deleting ${name}: scaling its ${r.members} member(s) to zero, then the autoscaler ends`
          : `deleted the autoscaler of ${name}; its ${r.members} member(s) keep running unmanaged (apply the spec again to manage them, or use --scale-to-zero)`,
      );
      return 0;
    }
    default:
      throw new UsageError('usage: poolpilot cluster apply|list|status|scale|pause|resume|history|delete');
  }
}
