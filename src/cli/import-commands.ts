// `poolpilot import heat FILE`, `import tosca FILE` and `import senlin CLUSTER`: another tool's definition as a
// cluster spec, printed (or written with -o) only once it validates; what could not be mapped, and where to point
// alarms, on standard error.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { credentialResolver } from '../activities/credentials';
import { keystoneSessions } from '../activities/keystone';
import { adoptSenlinNodes, readSenlinCluster } from '../client/senlin';
import { cloudOf, ImportError, parametersOf, type CloudOptions, type Imported } from '../config/import-common';
import { importHeat } from '../config/import-heat';
import { senlinToSpec } from '../config/import-senlin';
import { importTosca } from '../config/import-tosca';
import { parseClusterSpecValue } from '../config/load';
import { openstackCloudSchema, SpecError, type ClusterSpec } from '../config/spec';
import { count } from './options';
import type { Cli } from './runtime';

interface ImportCliOptions extends CloudOptions {
  project?: string;
  output?: string;
  parameter: string[];
  pool?: string;
  memberPort?: number;
}

/** Validated as `cluster apply` would: an import that does not validate is refused, and nothing is written or changed. */
function validated(file: string, r: Imported): ClusterSpec {
  try {
    return parseClusterSpecValue(r.spec, `imported from ${file}`).spec;
  } catch (err) {
    if (err instanceof SpecError) throw new ImportError(`${file}: the spec made from it does not validate: ${err.problems.join('; ')}`);
    throw err;
  }
}

function write(file: string, r: Imported, o: ImportCliOptions, source: string): void {
  const text = `# Imported from ${source} ${file} by poolpilot import; check it with poolpilot cluster validate -f FILE.\n${YAML.stringify(r.spec, { lineWidth: 0 })}`;
  if (o.output) writeFileSync(o.output, text);
  else process.stdout.write(text);
  for (const u of r.unmapped) console.error(`not mapped: ${u}`);
  for (const n of r.notes) console.error(`receiver: ${n}`);
}

function emit(file: string, r: Imported, o: ImportCliOptions, source: string): void {
  validated(file, r);
  write(file, r, o, source);
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

export function importCommands(cli: Cli): void {
  const imp = cli.program.command('import').description("another tool's definition as a cluster spec: a Heat template, a Tacker VNFD or a running Senlin cluster");
  cloudFlags(imp.command('heat <file>').description('an OS::Heat::AutoScalingGroup of Nova servers in an Octavia pool, its scaling policies and alarms; or an OS::Senlin::Cluster with its profile, policies and receivers'))
    .option('--pool <pool>', "the Octavia pool, for a Senlin load-balancing policy that makes its own (default: its pool.id)")
    .option('--member-port <port>', "the port members serve on, for a Senlin cluster without a load-balancing policy", count('--member-port'))
    .action((file: string, o: ImportCliOptions) => {
      emit(file, importHeat(file, { ...o, projectName: o.project, parameters: parametersOf(o.parameter) }), o, 'Heat template');
    });
  cloudFlags(imp.command('tosca <file>').description("a Tacker VNFD: the VDU its tosca.policies.tacker.Scaling policy targets, and its alarms"))
    .option('--pool <pool>', 'the Octavia pool the members join (a VNFD names none)')
    .option('--member-port <port>', 'the port members serve on', count('--member-port'))
    .action((file: string, o: ImportCliOptions) => {
      emit(file, importTosca(file, { ...o, projectName: o.project, parameters: parametersOf(o.parameter) }), o, 'TOSCA VNFD');
    });
  cloudFlags(imp.command('senlin <cluster>').description("a running Senlin cluster (name or id), read through Senlin's API: its os.nova.server profile, attached policies and receivers"))
    .option('--pool <pool>', "the Octavia pool (default: the load-balancing policy's pool.id)")
    .option('--member-port <port>', "the port members serve on (default: the load-balancing policy's pool.protocol_port)", count('--member-port'))
    .option('--adopt', "take the cluster's ACTIVE servers as members: they leave the Senlin cluster (servers kept) and get poolpilot's mark and member names")
    .addHelpText('after', '\nThe cloud and credential default to the lab\'s with --lab. The credential is resolved as the worker resolves it\n(POOLPILOT_CRED_<REF>_USERNAME/_PASSWORD or POOLPILOT_CREDENTIALS_FILE).')
    .action(async (ref: string, o: ImportCliOptions & { adopt?: boolean }) => {
      const ctx = cli.ctx();
      const lab = ctx.lab?.openstack;
      const cloud = { authUrl: o.authUrl ?? lab?.authUrl, projectName: o.project ?? lab?.projectName, region: o.region ?? lab?.region, credentialRef: o.credentialRef ?? ctx.lab?.openstackCredentialRef };
      const credentials = credentialResolver(process.env, ctx.credentialsFile);
      const keystone = keystoneSessions(credentials);
      const session = keystone.get(openstackCloudSchema.parse(cloudOf(cloud)));
      try {
        const src = await readSenlinCluster(session, ref);
        const r = senlinToSpec(src, `Senlin cluster ${src.cluster.name}`, { ...cloud, name: o.name, pool: o.pool, memberPort: o.memberPort });
        const spec = validated(`Senlin cluster ${src.cluster.name}`, r);
        if (o.adopt) {
          const adopted = await adoptSenlinNodes(keystone, credentials, src, spec, (m) => console.error(`adopt: ${m}`));
          console.error(`adopt: ${Object.keys(adopted.servers).length} server(s) adopted and in the pool under their member names: apply the spec now (poolpilot cluster apply -f FILE) so that poolpilot manages them`);
          console.error('adopt: Senlin keeps the released nodes as orphan records: never delete them with openstack cluster node delete, which deletes the server too');
        }
        write(`Senlin cluster ${src.cluster.name}`, r, o, 'the running');
      } finally {
        keystone.close();
      }
    });
}
