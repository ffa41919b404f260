// examples/avi: the spec parses; the Avi objects use only fields of the schema (AlertConfig, ActionGroupConfig and
// AlertScriptConfig of the Avi Controller API 30.2.1, encoded here); the ControlScript is the one the
// AlertScriptConfig holds, and it calls poolpilot's Senlin-style receiver as an alarm would.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadClusterSpec } from '../../src/config/load';

const dir = path.join(__dirname, '..', '..', 'examples', 'avi');
const json = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;

/** From the schemas, version 30.2.1: properties, required fields and enums of the objects the examples create. */
const SCHEMA = {
  AlertConfig: {
    fields: ['_last_modified', 'action_group_ref', 'alert_rule', 'autoscale_alert', 'category', 'configpb_attributes', 'description', 'enabled', 'expiry_time', 'name', 'obj_uuid', 'object_type', 'recommendation', 'rolling_window', 'source', 'summary', 'tenant_ref', 'threshold', 'throttle', 'url', 'uuid'],
    required: ['alert_rule', 'category', 'name', 'source'],
  },
  AlertRule: { fields: ['conn_app_log_rule', 'event_match_filter', 'metrics_rule', 'operator', 'sys_event_rule'], required: [] },
  AlertRuleMetric: { fields: ['duration', 'metric_id', 'metric_threshold'], required: ['metric_threshold'] },
  AlertMetricThreshold: { fields: ['comparator', 'threshold'], required: ['comparator'] },
  ActionGroupConfig: {
    fields: ['_last_modified', 'action_script_config_ref', 'autoscale_trigger_notification', 'configpb_attributes', 'description', 'email_config_ref', 'external_only', 'level', 'name', 'snmp_trap_profile_ref', 'syslog_config_ref', 'tenant_ref', 'url', 'uuid'],
    required: ['external_only', 'level', 'name'],
  },
  AlertScriptConfig: { fields: ['_last_modified', 'action_script', 'configpb_attributes', 'name', 'tenant_ref', 'timeout', 'url', 'uuid'], required: ['name'] },
};
const ENUMS = {
  category: ['REALTIME', 'ROLLINGWINDOW', 'WATERMARK'],
  source: ['CONN_LOGS', 'APP_LOGS', 'EVENT_LOGS', 'METRICS'],
  comparator: ['ALERT_OP_LT', 'ALERT_OP_LE', 'ALERT_OP_EQ', 'ALERT_OP_NE', 'ALERT_OP_GE', 'ALERT_OP_GT'],
  operator: ['OPERATOR_AND', 'OPERATOR_OR'],
  level: ['ALERT_LOW', 'ALERT_MEDIUM', 'ALERT_HIGH'],
};

function conforms(obj: Record<string, unknown>, kind: keyof typeof SCHEMA): void {
  const s = SCHEMA[kind];
  expect(Object.keys(obj).filter((k) => !s.fields.includes(k))).toEqual([]);
  expect(s.required.filter((k) => !(k in obj))).toEqual([]);
  for (const [k, allowed] of Object.entries(ENUMS)) if (k in obj) expect(allowed).toContain(obj[k]);
}

test('web-avi.yaml is a valid spec on the Avi balancer, scaling on the pool analytics', () => {
  const spec = loadClusterSpec(path.join(dir, 'web-avi.yaml'));
  expect(spec.loadBalancer.avi).toMatchObject({ pool: 'web-pool', version: '30.2.1', tenant: 'admin' });
  expect(spec.loadBalancer.haproxy).toBeUndefined();
  expect(spec.metrics[0]!.source).toEqual({ avi: { metricId: 'l4_server.avg_open_conns', step: 300, limit: 1 } });
});

test.each(['alertconfig-scale-out.json', 'alertconfig-scale-in.json'])('%s uses only AlertConfig fields, on the pool metric', (f) => {
  const a = json(f);
  conforms(a, 'AlertConfig');
  const rule = a.alert_rule as Record<string, unknown>;
  conforms(rule, 'AlertRule');
  for (const m of rule.metrics_rule as Record<string, unknown>[]) {
    conforms(m, 'AlertRuleMetric');
    conforms(m.metric_threshold as Record<string, unknown>, 'AlertMetricThreshold');
    expect(m.metric_id).toBe('l4_server.avg_open_conns');
  }
  expect(a.name).toMatch(/^poolpilot-web-scale-(out|in)$/);
  expect(a.action_group_ref).toBe(`/api/actiongroupconfig?name=${json('actiongroupconfig.json').name as string}`);
});

test('the action group runs the script config, which holds poolpilot_forward.py as it is', () => {
  const group = json('actiongroupconfig.json');
  const script = json('alertscriptconfig.json');
  conforms(group, 'ActionGroupConfig');
  conforms(script, 'AlertScriptConfig');
  expect(group.action_script_config_ref).toBe(`/api/alertscriptconfig?name=${script.name as string}`);
  expect(script.action_script).toBe(readFileSync(path.join(dir, 'poolpilot_forward.py'), 'utf8'));
});

describe('the ControlScript', () => {
  const run = promisify(execFile);
  let server: http.Server;
  let url = '';
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"accepted":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const script = (alert: unknown, env: Record<string, string> = {}) =>
    run('python3', [path.join(dir, 'poolpilot_forward.py'), JSON.stringify(alert)], { env: { PATH: process.env.PATH, POOLPILOT_URL: url, POOLPILOT_TOKEN: 'tok-123', ...env } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  test('an alert poolpilot-web-scale-out becomes CLUSTER_SCALE_OUT on the Senlin-style receiver, with the bearer token', async () => {
    const r = await script({ name: 'poolpilot-web-scale-out', level: 'ALERT_MEDIUM', events: [] });
    expect(r.code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/v1/webhooks/web/trigger?action=CLUSTER_SCALE_OUT&count=1', auth: 'Bearer tok-123' });
  });

  test('scale-in too', async () => {
    expect((await script({ name: 'poolpilot-web-scale-in' })).code).toBe(0);
    expect(seen.at(-1)?.url).toBe('/v1/webhooks/web/trigger?action=CLUSTER_SCALE_IN&count=1');
  });

  test('an alert of another name sends nothing and says why', async () => {
    const before = seen.length;
    const r = await script({ name: 'HighCPU' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not named poolpilot-<cluster>-scale-out/);
    expect(seen.length).toBe(before);
  });

  test('poolpilot not answering is exit 1 with the reason', async () => {
    const r = await script({ name: 'poolpilot-web-scale-out' }, { POOLPILOT_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not answer/);
  });
});
