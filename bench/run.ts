// Runs every benchmark in turn (npm run bench); each also runs alone: node dist/bench/<name>.js.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

for (const name of ['backtest', 'backtest-frontier', 'scale-out', 'reaction', 'time-to-capacity', 'density']) {
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
