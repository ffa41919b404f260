// docker-compose.yml and the lab's production profile agree: versions, settings, search attributes, workers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../../src/config/settings';
import { SEARCH_ATTRIBUTES } from '../../src/config/search-attributes';
import { DYNAMIC_CONFIG_FILE, temporalServerConfig } from '../../src/lab/production';
import { labConfigSchema } from '../../src/lab/state';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../src/lab/tools';

interface Service {
  image?: string;
  environment?: Record<string, string | number>;
  volumes?: string[];
  command?: string[];
  deploy?: { replicas?: number };
}
const compose = YAML.parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const svc = (name: string) => compose.services[name]!;
const serverYaml = YAML.parse(temporalServerConfig(labConfigSchema.parse({ profile: 'production' }), { user: 'temporal', password: 'x' }, DYNAMIC_CONFIG_FILE)) as {
  persistence: { numHistoryShards: number; datastores: Record<string, { sql: { pluginName: string } }> };
  dynamicConfigClient: { filepath: string };
};

test('the same Temporal server, admin tools and UI versions as the lab builds', () => {
  expect(svc('temporal').image).toBe(`temporalio/auto-setup:${TEMPORAL_SERVER_VERSION.slice(1)}`);
  expect(svc('temporal-setup').image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.slice(1)}`);
  expect(svc('temporal-ui').image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION.slice(1)}`);
});

test("the same PostgreSQL major version as Debian's package, the same SQL plugin and history shards", () => {
  expect(svc('postgresql').image).toBe('postgres:15');
  expect(svc('temporal').environment!.DB).toBe('postgres12');
  expect(Object.values(serverYaml.persistence.datastores).map((d) => d.sql.pluginName)).toEqual(['postgres12', 'postgres12']);
  expect(svc('temporal').environment!.NUM_HISTORY_SHARDS).toBe(serverYaml.persistence.numHistoryShards);
});

test('the same dynamic config file, mounted where auto-setup reads it', () => {
  expect(serverYaml.dynamicConfigClient.filepath).toBe(DYNAMIC_CONFIG_FILE);
  const mount = svc('temporal').volumes!.find((v) => v.startsWith('./deploy/temporal/dynamicconfig.yaml:'));
  expect(mount).toBe('./deploy/temporal/dynamicconfig.yaml:/etc/temporal/config/dynamicconfig/poolpilot.yaml:ro');
  expect(`/etc/temporal/${svc('temporal').environment!.DYNAMIC_CONFIG_FILE_PATH}`).toBe(mount!.split(':')[1]);
});

test("the same search attributes, and workers with /metrics, two of them", () => {
  const setup = svc('temporal-setup').command!.join(' ');
  for (const name of Object.values(SEARCH_ATTRIBUTES)) expect(setup).toContain(`search-attribute create --name ${name} --type Keyword`);
  expect(svc('worker').deploy!.replicas).toBeGreaterThanOrEqual(2);
  expect(svc('worker').environment!.POOLPILOT_METRICS_PORT).toBe(9464);
});
