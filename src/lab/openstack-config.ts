// What the lab's OpenStack is told: its ports and names, the services' configuration files (from the recipe that
// worked), RabbitMQ's environment and the plan bootstrap.py follows. src/lab/openstack.ts runs the processes.
import path from 'node:path';

export interface OpenstackPorts {
  postgres: number;
  rabbit: number;
  epmd: number;
  keystone: number;
  placement: number;
  glance: number;
  neutron: number;
  nova: number;
  octavia: number;
  /** Senlin's API; with it the lab runs Senlin too (the import and the side-by-side bench read a real one). */
  senlin?: number;
}

export const OPENSTACK_DEV_PORTS: OpenstackPorts = { postgres: 15433, rabbit: 15672, epmd: 14369, keystone: 15000, placement: 18778, glance: 19292, neutron: 19696, nova: 18774, octavia: 19876, senlin: 18777 };

/** What the lab makes for its operator, and what `lab status --json` prints (an `openstack` CLI works with it). */
export const OPENSTACK_LAB_NAMES = {
  region: 'RegionOne',
  project: 'poolpilot',
  /** A second project of the same user, with a quota of one server (the quota tests use it). */
  tinyProject: 'poolpilot-tiny',
  username: 'poolpilot',
  flavor: 'm1.tiny',
  image: 'tiny',
  network: 'private',
  cidr: '10.250.0.0/24',
  /** Octavia load balancers (amphora provider, noop drivers), each with an HTTP listener and one pool. */
  loadBalancers: [
    { name: 'web-lb', pool: 'web-pool' },
    { name: 'contract-lb', pool: 'contract-pool' },
  ],
  /** The credentialRef the lab's credentials file holds for its OpenStack user. */
  credentialRef: 'lab-openstack',
} as const;

export interface OpenstackAccess {
  authUrl: string;
  projectName: string;
  username: string;
  password: string;
  userDomainName: string;
  projectDomainName: string;
  region: string;
}

export interface OpenstackLabState {
  ports: OpenstackPorts;
  host: string;
  pids: Record<string, number>;
  secrets: { admin: string; services: string; user: string; caPassphrase: string };
  ready?: string;
}

// ---- configuration files, from the recipe that worked (one section per line group) ----

type Ini = Record<string, Record<string, string | number | boolean>>;
function ini(sections: Ini): string {
  return (
    '# Written by poolpilot lab up --cloud openstack.\n' +
    Object.entries(sections)
      .map(([name, kv]) => `[${name}]\n${Object.entries(kv).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
      .join('\n')
  );
}

export function configs(dir: string, s: OpenstackLabState): Record<string, string> {
  const h = s.host;
  const p = s.ports;
  const db = (name: string) => `postgresql+psycopg2://postgres@${h}:${p.postgres}/${name}`;
  const rabbit = `rabbit://guest:guest@${h}:${p.rabbit}/`;
  const ks = `http://${h}:${p.keystone}/`;
  const serviceAuth = (user: string) => ({
    auth_url: ks, auth_type: 'password', project_domain_name: 'Default', user_domain_name: 'Default', project_name: 'service', region_name: OPENSTACK_LAB_NAMES.region, username: user, password: s.secrets.services,
  });
  const authtoken = (user: string) => ({ www_authenticate_uri: ks, ...serviceAuth(user) });
  const etc = (f: string) => path.join(dir, 'etc', f);
  const data = (f: string) => path.join(dir, 'data', f);
  const log = (f: string) => path.join(dir, 'log', f);
  const certs = (f: string) => path.join(dir, 'etc', 'octavia', f);
  return {
    'keystone/keystone.conf': ini({
      DEFAULT: { log_file: log('keystone.log') },
      database: { connection: db('keystone') },
      token: { provider: 'fernet' },
      fernet_tokens: { key_repository: data('fernet-keys') },
      fernet_receipts: { key_repository: data('fernet-keys') },
      credential: { key_repository: data('credential-keys') },
    }),
    'placement/placement.conf': ini({
      DEFAULT: { log_file: log('placement.log') },
      placement_database: { connection: db('placement') },
      api: { auth_strategy: 'keystone' },
      keystone_authtoken: { ...authtoken('placement'), service_token_roles_required: true },
    }),
    'glance/glance-api.conf': ini({
      DEFAULT: { bind_host: h, bind_port: p.glance, workers: 1, log_file: log('glance-api.log'), enabled_backends: 'fs:file' },
      database: { connection: db('glance') },
      glance_store: { default_backend: 'fs' },
      fs: { filesystem_store_datadir: data('glance/images') },
      os_glance_staging_store: { filesystem_store_datadir: data('glance/staging') },
      os_glance_tasks_store: { filesystem_store_datadir: data('glance/tasks') },
      keystone_authtoken: authtoken('glance'),
      paste_deploy: { flavor: 'keystone', config_file: etc('glance/glance-api-paste.ini') },
      oslo_concurrency: { lock_path: data('glance/lock') },
    }),
    'neutron/neutron.conf': ini({
      DEFAULT: {
        bind_host: h, bind_port: p.neutron, core_plugin: 'ml2', service_plugins: '', auth_strategy: 'keystone', api_paste_config: etc('neutron/api-paste.ini'),
        api_workers: 1, rpc_workers: 0, rpc_state_report_workers: 0, transport_url: rabbit,
        notify_nova_on_port_status_changes: false, notify_nova_on_port_data_changes: false, dhcp_agent_notification: false, state_path: data('neutron'),
      },
      database: { connection: db('neutron') },
      keystone_authtoken: authtoken('neutron'),
      oslo_concurrency: { lock_path: data('neutron/lock') },
      agent: { report_interval: 0 },
    }),
    // "bindall" binds every port: no agent runs here (src/lab/openstack/bindall).
    'neutron/ml2_conf.ini': ini({
      ml2: { type_drivers: 'local,flat', tenant_network_types: 'local', mechanism_drivers: 'bindall', extension_drivers: 'port_security' },
      ml2_type_flat: { flat_networks: '*' },
      securitygroup: { enable_security_group: true, firewall_driver: 'noop' },
    }),
    'nova/nova.conf': ini({
      DEFAULT: {
        transport_url: rabbit, my_ip: h, host: 'fake-compute-1', state_path: data('nova'), compute_driver: 'fake.SmallFakeDriver', enabled_apis: 'osapi_compute',
        osapi_compute_listen: h, osapi_compute_listen_port: p.nova, osapi_compute_workers: 1, metadata_workers: 1,
      },
      api: { auth_strategy: 'keystone' },
      api_database: { connection: db('nova_api') },
      database: { connection: db('nova') },
      conductor: { workers: 1 },
      scheduler: { workers: 1, discover_hosts_in_cells_interval: 10 },
      keystone_authtoken: authtoken('nova'),
      placement: serviceAuth('placement'),
      neutron: serviceAuth('neutron'),
      glance: { region_name: OPENSTACK_LAB_NAMES.region },
      cinder: { os_region_name: OPENSTACK_LAB_NAMES.region },
      wsgi: { api_paste_config: etc('nova/api-paste.ini') },
      oslo_concurrency: { lock_path: data('nova/lock') },
      vnc: { enabled: false },
      oslo_messaging_rabbit: { heartbeat_timeout_threshold: 0 },
    }),
    ...(p.senlin
      ? {
          'senlin/senlin.conf': ini({
            DEFAULT: { transport_url: rabbit, api_paste_config: etc('senlin/api-paste.ini'), default_region_name: OPENSTACK_LAB_NAMES.region },
            senlin_api: { bind_host: h, bind_port: p.senlin, workers: 1 },
            database: { connection: db('senlin') },
            engine: { workers: 1 },
            conductor: { workers: 1 },
            health_manager: { workers: 1 },
            keystone_authtoken: authtoken('senlin'),
            // The engine acts for a cluster's owner through a Keystone trust to this user.
            authentication: {
              auth_url: `${ks}v3`, service_username: 'senlin', service_password: s.secrets.services, service_project_name: 'service', service_user_domain: 'Default', service_project_domain: 'Default',
            },
            oslo_messaging_notifications: { driver: 'noop' },
            oslo_concurrency: { lock_path: data('senlin/lock') },
          }),
        }
      : {}),
    'octavia/octavia.conf': ini({
      DEFAULT: { transport_url: rabbit, log_file: log('octavia.log') },
      api_settings: { bind_host: h, bind_port: p.octavia, auth_strategy: 'keystone', enabled_provider_drivers: 'amphora:Amphora with noop backends', default_provider_driver: 'amphora' },
      database: { connection: db('octavia') },
      keystone_authtoken: authtoken('octavia'),
      service_auth: serviceAuth('octavia'),
      controller_worker: {
        client_ca: certs('ca.pem'), amphora_driver: 'amphora_noop_driver', compute_driver: 'compute_noop_driver', network_driver: 'network_noop_driver',
        volume_driver: 'volume_noop_driver', image_driver: 'image_noop_driver', loadbalancer_topology: 'SINGLE', workers: 1,
      },
      task_flow: { jobboard_enabled: false },
      oslo_messaging: { topic: 'octavia_prov' },
      oslo_concurrency: { lock_path: data('octavia/lock') },
      // The noop amphorae send no heartbeats; the health manager is not run.
      health_manager: { bind_ip: h, bind_port: p.octavia + 1, heartbeat_key: s.secrets.caPassphrase, health_update_threads: 1, stats_update_threads: 1 },
      // The worker signs amphora certificates with this CA and refuses an unencrypted key.
      certificates: { ca_certificate: certs('ca.pem'), ca_private_key: certs('ca.key'), ca_private_key_passphrase: s.secrets.caPassphrase },
      haproxy_amphora: { server_ca: certs('ca.pem'), client_cert: certs('client.pem') },
    }),
  };
}

export function rabbitEnv(dir: string, s: OpenstackLabState): NodeJS.ProcessEnv {
  const r = path.join(dir, 'rabbit');
  return {
    HOME: r,
    RABBITMQ_NODENAME: 'rabbit@localhost',
    RABBITMQ_NODE_IP_ADDRESS: s.host,
    RABBITMQ_NODE_PORT: String(s.ports.rabbit),
    // Next to the AMQP port: port + 20000 (RabbitMQ's default) would land on another lab's AMQP port.
    RABBITMQ_DIST_PORT: String(s.ports.rabbit + 1),
    ERL_EPMD_ADDRESS: s.host,
    ERL_EPMD_PORT: String(s.ports.epmd),
    RABBITMQ_MNESIA_BASE: path.join(r, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(r, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(r, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(r, 'rabbitmq'),
    RABBITMQ_PID_FILE: path.join(r, 'rabbit.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-kernel inet_dist_use_interface {${s.host.split('.').join(',')}}`,
  };
}

/** The plan bootstrap.py follows; it holds the generated passwords and stays in the lab folder (mode 600). */
export function plan(s: OpenstackLabState) {
  const h = s.host;
  const p = s.ports;
  return {
    authUrl: `http://${h}:${p.keystone}/v3`,
    adminPassword: s.secrets.admin,
    region: OPENSTACK_LAB_NAMES.region,
    username: OPENSTACK_LAB_NAMES.username,
    password: s.secrets.user,
    projects: [OPENSTACK_LAB_NAMES.project, OPENSTACK_LAB_NAMES.tinyProject],
    // Nova's defaults (10 servers, 20 cores) are below what the benchmarks build at once (20, and more for a test).
    quotas: { [OPENSTACK_LAB_NAMES.project]: { instances: 100, cores: 200, ram: 102_400 }, [OPENSTACK_LAB_NAMES.tinyProject]: { instances: 1 } },
    flavor: { name: OPENSTACK_LAB_NAMES.flavor, ram: 512, vcpus: 1, disk: 1 },
    image: OPENSTACK_LAB_NAMES.image,
    network: { name: OPENSTACK_LAB_NAMES.network, cidr: OPENSTACK_LAB_NAMES.cidr },
    loadBalancers: OPENSTACK_LAB_NAMES.loadBalancers,
    services: [
      { name: 'placement', type: 'placement', user: 'placement', url: `http://${h}:${p.placement}` },
      { name: 'glance', type: 'image', user: 'glance', url: `http://${h}:${p.glance}` },
      { name: 'neutron', type: 'network', user: 'neutron', url: `http://${h}:${p.neutron}` },
      { name: 'nova', type: 'compute', user: 'nova', url: `http://${h}:${p.nova}/v2.1` },
      { name: 'octavia', type: 'load-balancer', user: 'octavia', url: `http://${h}:${p.octavia}` },
      ...(p.senlin ? [{ name: 'senlin', type: 'clustering', user: 'senlin', url: `http://${h}:${p.senlin}` }] : []),
    ].map((svc) => ({ ...svc, password: s.secrets.services })),
  };
}
