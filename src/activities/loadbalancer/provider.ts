// The load-balancer port: what poolpilot needs from a balancer. HAProxy (Runtime API) and NSX ALB (Avi REST API)
// implement it, each in one file; src/activities/loadbalancer/index.ts picks one by the spec.
export type MemberStatus = 'UP' | 'DOWN' | 'DRAIN' | 'MAINT' | 'CHECKING';

export interface PoolMember {
  name: string;
  address: string;
  port: number;
  status: MemberStatus;
  /** The balancer's own health check has passed (HAProxy: UP with an L4/L6/L7 OK; Avi: OPER_UP). */
  checkPassed: boolean;
  /** Open sessions now. */
  sessions: number;
  /** Sessions served since the member was added. */
  totalSessions: number;
  /** Sessions per second over the last second. */
  rate: number;
  /** Requests waiting in this member's queue. */
  queued: number;
  /** The last health check's result, as the balancer words it. */
  check?: string;
}

export interface HealthCheck {
  intervalMs: number;
  rise: number;
  fall: number;
}

export interface LoadBalancer {
  /** How often a wait (health check, drain) may read a member: a local socket is cheap, a controller's REST API is not. */
  readonly pollIntervalMs: number;
  /** Adds and enables a member with a health check; an existing member of that name and address is kept. */
  addMember(name: string, address: string, port: number, check: HealthCheck): Promise<'added' | 'exists' | 'replaced'>;
  getMember(name: string): Promise<PoolMember | undefined>;
  listMembers(): Promise<PoolMember[]>;
  /** Stops new sessions to the member; open ones go on. */
  drainMember(name: string): Promise<boolean>;
  /** Takes the member out and deletes it; true if it was there. */
  removeMember(name: string): Promise<boolean>;
}
