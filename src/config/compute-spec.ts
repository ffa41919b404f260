// The cluster spec's compute block (pure: workflows bundle it): the cloud that runs the members, vSphere or OpenStack,
// each read by one provider file under src/activities/compute. Its names are part of spec.ts's.
import { z } from 'zod';
import { duration } from './duration';
import { customizationSchema, inventoryPath, placementSchema } from './vsphere-fields';

/** Names a credential the worker resolves; never the secret itself. */
export const credentialRef = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a credential name (letters, digits, _ . -), not a secret');
export const thumbprint = z.string().regex(/^([0-9A-Fa-f]{2}:){19,31}[0-9A-Fa-f]{2}$/, 'must be a colon-separated hex thumbprint');

export const vsphereSchema = z
  .object({
    /** SDK endpoint, e.g. https://vcenter.example.com/sdk */
    url: z.string().url(),
    /** Names a credential the worker resolves from its environment or credentials file; never the secret itself. */
    credentialRef,
    /** Accept any TLS certificate. For labs only. */
    insecure: z.boolean().default(false),
    /** PEM bundle of CAs to trust for the SDK endpoint. */
    caFile: z.string().optional(),
    /** SHA-1 or SHA-256 thumbprint of the endpoint's certificate (AA:BB:...). */
    thumbprint: thumbprint.optional(),
    datacenter: z.string().min(1),
    template: inventoryPath,
    folder: inventoryPath,
    resourcePool: inventoryPath,
    network: z.string().min(1),
    /** A stored guest customization spec by name: the same as customization: { spec }. */
    customizationSpec: z.string().min(1).optional(),
    /** Guest customization before first power-on: a stored spec, or a hostname pattern and a pool of static addresses. */
    customization: customizationSchema.optional(),
    /**
     * How members are cloned (absent: full). full: a copy of the template's disks. linked: from the template's
     * current snapshot, each disk a child of the snapshot's (createNewChildDiskBacking): seconds instead of minutes,
     * and shared reads. instant: InstantClone_Task from the template as a running VM (vSphere 6.7+), powered on at
     * once; no customization spec (the guest keeps the source's state).
     */
    cloneMode: z.enum(['full', 'linked', 'instant']).optional(),
    placement: placementSchema.optional(),
    /** How long a new VM may take to run VMware Tools and report an IPv4 on `network`. */
    guestTimeout: duration.default(300_000),
    /**
     * How long a scaling run keeps retrying transient errors (connection refused or reset, timeouts, HTTP 503) with
     * backoff before it gives up: a vCenter restart or patch takes minutes. Permanent faults fail at once.
     */
    outageTolerance: duration.default(900_000),
  })
  .strict()
  .refine((v) => !(v.customizationSpec && v.customization), { message: 'give customization or customizationSpec (its old spelling), not both', path: ['customizationSpec'] })
  .refine((v) => !(v.cloneMode === 'instant' && (v.customizationSpec || v.customization)), {
    message: "an instant clone keeps the running source's guest state: drop customization, or use cloneMode full or linked",
    path: ['customization'],
  });

/** Where and as whom poolpilot reaches an OpenStack cloud: Keystone v3, one project, one region. */
export const openstackCloudFields = {
  /** Keystone v3, e.g. https://keystone.example.com:5000/v3 */
  authUrl: z.string().url(),
  /** Names a credential the worker resolves: a user and password, or an application credential's id and secret. */
  credentialRef,
  auth: z.enum(['password', 'applicationCredential']).default('password'),
  /** The project the servers and the pool live in (password auth; an application credential has its own). */
  projectName: z.string().min(1).optional(),
  projectDomainName: z.string().min(1).default('Default'),
  userDomainName: z.string().min(1).default('Default'),
  region: z.string().min(1).default('RegionOne'),
  /** Which catalog URLs to call: public, internal (from inside the cloud) or admin. */
  interface: z.enum(['public', 'internal', 'admin']).default('public'),
  insecure: z.boolean().default(false),
  caFile: z.string().optional(),
};

export const openstackCloudSchema = z.object(openstackCloudFields).strict();

/** The key of an OpenStack cloud's connection: a worker keeps one Keystone token per key. */
export const OPENSTACK_CLOUD_KEYS = Object.keys(openstackCloudFields) as (keyof typeof openstackCloudFields)[];

export const openstackSchema = z
  .object({
    ...openstackCloudFields,
    /** Glance image, by name or id. */
    image: z.string().min(1),
    /** Nova flavor, by name or id. */
    flavor: z.string().min(1),
    /** Neutron networks, by name or id; members serve on the first (its fixed IPv4 joins the pool). */
    networks: z.array(z.string().min(1)).min(1).max(8),
    securityGroups: z.array(z.string().min(1)).max(16).optional(),
    keyName: z.string().min(1).optional(),
    availabilityZone: z.string().min(1).optional(),
    /** A server group (name or id); with an anti-affinity policy Nova spreads the members over hosts. */
    serverGroup: z.string().min(1).optional(),
    /** cloud-init user data, as text (sent base64-encoded); a spec's strings are at most 16 KiB, within Nova's 64 KiB. */
    userData: z.string().optional(),
    /** How long a new server may take to be ACTIVE with a fixed IPv4 on the first network. */
    guestTimeout: duration.default(300_000),
    /** As vsphere.outageTolerance: how long a run keeps retrying an unreachable or failing Nova. */
    outageTolerance: duration.default(900_000),
  })
  .strict()
  .refine((o) => o.auth === 'applicationCredential' || o.projectName !== undefined, { message: 'password auth needs projectName', path: ['projectName'] });

/** The cloud that runs a cluster's members: one provider file under src/activities/compute each. */
export const computeSchema = z
  .object({ vsphere: vsphereSchema.optional(), openstack: openstackSchema.optional() })
  .strict()
  .refine((c) => (c.vsphere ? 1 : 0) + (c.openstack ? 1 : 0) === 1, { message: 'names no cloud or two: write compute: { openstack: {...} } or compute: { vsphere: {...} }' });
