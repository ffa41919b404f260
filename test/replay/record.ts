// Records histories of real runs for the replay tests: `npm run record-histories -- WORKFLOW_ID[=NAME] ...`.
// Uses the Temporal CLI's JSON export, the format historyFromJSON reads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporalTarget } from '../../src/temporal/target';
import { PROJECT_ROOT } from '../../src/config/settings';
import { findTool } from '../../src/lab/tools';

export const HISTORIES_DIR = path.join(PROJECT_ROOT, 'test', 'replay', 'histories');

function main(ids: string[]): void {
  if (ids.length === 0) throw new Error('name the workflow IDs to record, e.g. autoscaler:web=autoscaler');
  const temporal = findTool('temporal');
  if (!temporal) throw new Error('the Temporal CLI is missing: run "poolpilot tools install"');
  const target = temporalTarget();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  for (const arg of ids) {
    const [id, name] = arg.split('=') as [string, string | undefined];
    const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', id, '--address', target.address, '--namespace', target.namespace, '--output', 'json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const history = withoutMachinePaths(JSON.parse(json) as { events?: unknown[] });
    const events = history.events ?? [];
    const file = path.join(HISTORIES_DIR, `${name ?? id.replace(/[^a-z0-9-]+/gi, '_')}.json`);
    writeFileSync(file, `${JSON.stringify(history, null, 2)}\n`);
    console.log(`${id}: ${events.length} events → ${path.relative(PROJECT_ROOT, file)}`);
  }
}

/**
 * The history with every payload's text (inputs, results, markers: the base64 `data` of each) passed through `fn`;
 * a payload `fn` leaves as it was is kept byte for byte. The one walk over payloads, for recording and for its checks.
 */
export function mapPayloadTexts<T>(history: T, fn: (text: string) => string): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k !== 'data' || typeof v !== 'string') {
        out[k] = walk(v);
        continue;
      }
      const text = Buffer.from(v, 'base64').toString('utf8');
      const mapped = fn(text);
      out[k] = mapped === text ? v : Buffer.from(mapped).toString('base64');
    }
    return out;
  };
  return walk(history) as T;
}

/**
 * The history with this checkout's path taken out of every payload (a lab's HAProxy socket is an absolute path in the
 * spec): committed histories carry no machine's paths. Replay compares commands, not payloads, so it is unchanged.
 */
export function withoutMachinePaths<T>(history: T, root = PROJECT_ROOT): T {
  const prefix = `${root}${path.sep}`;
  return mapPayloadTexts(history, (text) => text.split(prefix).join(''));
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
