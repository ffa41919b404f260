// Restores lockfile entries for other platforms' optional binary packages (e.g. @swc/core-darwin-arm64).
// The registry this project's machines reach serves only linux packages, so `npm install` drops those entries
// and `npm ci` then rejects the lockfile as out of sync. Each restored entry carries its os/cpu/libc, as npm
// writes them, so npm ci skips it on other platforms without fetching. Run after `npm install` changes the lockfile.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

function platform(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (!cpu || (!os && cpu !== 'wasm32')) return undefined;
  const entry = { cpu: [cpu] };
  if (os) entry.os = [os];
  if (os === 'linux' && parts.some((p) => p.includes('musl'))) entry.libc = ['musl'];
  else if (os === 'linux' && parts.some((p) => p.startsWith('gnu'))) entry.libc = ['glibc'];
  return entry;
}

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [key, pkg] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const where = `node_modules/${dep}`;
    if (pkgs[where]) continue;
    const p = platform(dep);
    if (!p) continue;
    pkgs[where] = { version, ...(pkg.dev ? { dev: true } : {}), optional: true, ...p };
    added++;
  }
  if (key === '') continue;
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${file}: ${added} platform entries restored`);
