// Which cloud a spec names (pure, no zod: workflows import it). vSphere specs may still say `vsphere:` at the top
// level, as before clouds were pluggable; running autoscalers keep such specs in their state.
import type { ComputeSpec, OpenstackSpec, VsphereSpec } from './spec';

export type Compute = { kind: 'vsphere'; spec: VsphereSpec } | { kind: 'openstack'; spec: OpenstackSpec };

/** What a compute activity is told: the cloud, and (from workflows started before this field) a bare vSphere spec. */
export interface CloudRef {
  compute?: Compute;
  vsphere?: VsphereSpec;
}

/** The cloud of a cluster spec (either shape). */
export function computeOf(spec: { compute?: ComputeSpec; vsphere?: VsphereSpec }): Compute {
  if (spec.compute?.openstack) return { kind: 'openstack', spec: spec.compute.openstack };
  const vsphere = spec.compute?.vsphere ?? spec.vsphere;
  if (!vsphere) throw new Error('the cluster spec names no cloud (compute.openstack or vsphere)');
  return { kind: 'vsphere', spec: vsphere };
}

/** The cloud an activity request names: its `compute`, else the bare `vsphere` older workflows sent. */
export function cloudOfRequest(req: CloudRef): Compute {
  if (req.compute) return req.compute;
  if (req.vsphere) return { kind: 'vsphere', spec: req.vsphere };
  throw new Error('the request names no cloud');
}

/** What members are made from, for run summaries: the vSphere template or the Glance image. */
export function sourceOf(c: Compute): string {
  return c.kind === 'vsphere' ? c.spec.template : `image ${c.spec.image}`;
}

/** The same timing fields on every cloud. */
export const guestTimeoutOf = (c: Compute) => c.spec.guestTimeout;
export const outageToleranceOf = (c: Compute) => c.spec.outageTolerance;
