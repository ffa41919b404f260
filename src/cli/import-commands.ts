// `poolpilot import heat FILE` and `import tosca FILE`: another tool's definition as a cluster spec, printed (or
// written with -o) only once it validates; what could not be mapped, and where to point alarms, on standard error.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ImportError, parametersOf, type CloudOptions, type Imported } from '../config/import-common';
import { importHeat } from '../config/import-heat';
import { importTosca } from '../config/import-tosca';
import { parseClusterSpecValue } from '../config/load';
import { SpecError } from '../config/spec';
import { count } from './options';

interface ImportCliOptions extends CloudOptions {
  project?: string;
  output?: string;
  parameter: string[];
  pool?: string;
  memberPort?: number;
}

function emit(file: string, r: Imported, o: ImportCliOptions, source: string): void {
  // Validated as `cluster apply` would: an import that does not validate is refused, not written.
  try {
    parseClusterSpecValue(r.spec, `imported from ${file}`);
  } catch (err) {
    if (err instanceof SpecError) throw new ImportError(`${file}: the spec made from it does not validate: ${err.problems.join('; ')}`);
    throw err;
  }
  const text = `# Imported from ${source} ${file} by poolpilot import; check it with poolpilot cluster validate -f FILE.\n${YAML.stringify(r.spec, { lineWidth: 0 })}`;
  if (o.output) writeFileSync(o.output, text);
  else process.stdout.write(text);
  for (const u of r.unmapped) console.error(`not mapped: ${u}`);
  for (const n of r.notes) console.error(`receiver: ${n}`);
}

const cloudFlags = (c: Command) =>
  c
    .option('-o, --output <file>', 'write the spec there instead of standard output (nothing is written if the import fails)')
    .option('--parameter <name=value>', 'a template parameter or input (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--name <name>', "the cluster's name (default: from the file's name)")
    .option('--auth-url <url>', "the cloud's Keystone v3 (default: OS_AUTH_URL)")
    .option('--project <name>', 'the project (default: OS_PROJECT_NAME)')
    .option('--region <name>', 'the region (default: OS_REGION_NAME, else RegionOne)')
    .option('--credential-ref <ref>', 'the credential the worker resolves for the cloud (default: openstack)');

export function importCommands(program: Command): void {
  const imp = program.command('import').description("another tool's definition as a cluster spec: a Heat template or a Tacker VNFD");
  cloudFlags(imp.command('heat <file>').description('an OS::Heat::AutoScalingGroup of Nova servers in an Octavia pool, its scaling policies and alarms')).action((file: string, o: ImportCliOptions) => {
    emit(file, importHeat(file, { ...o, projectName: o.project, parameters: parametersOf(o.parameter) }), o, 'Heat template');
  });
  cloudFlags(imp.command('tosca <file>').description("a Tacker VNFD: the VDU its tosca.policies.tacker.Scaling policy targets, and its alarms"))
    .option('--pool <pool>', 'the Octavia pool the members join (a VNFD names none)')
    .option('--member-port <port>', 'the port members serve on', count('--member-port'))
    .action((file: string, o: ImportCliOptions) => {
      emit(file, importTosca(file, { ...o, projectName: o.project, parameters: parametersOf(o.parameter) }), o, 'TOSCA VNFD');
    });
}
