// Runs every benchmark in turn (npm run bench); each also runs alone: node dist/bench/<name>.js.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// vs-senlin needs the bench lab's OpenStack: it runs with BENCH_CLOUDS naming openstack.
const openstack = (process.env.BENCH_CLOUDS ?? '').split(',').includes('openstack');
for (const name of ['backtest', 'backtest-frontier', 'scale-out', 'reaction', 'time-to-capacity', 'density', ...(openstack ? ['vs-senlin'] : [])]) {
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
