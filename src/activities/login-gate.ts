// Failed logins, shared per endpoint and user by every client in this worker: after a refused login, no client signs
// in there as that user again before the interval has passed; each asks and is answered from memory. A directory's
// lockout policy counts failed logins per account, so many clusters, runs and retries must not each try their own.
import { permanent } from './errors';

interface Refusal {
  at: number;
  message: string;
}

export class LoginGate {
  private readonly refused = new Map<string, Refusal>();
  /** The login under way per endpoint and user: others wait for its outcome rather than try beside it. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    /** How long a refused login answers for its endpoint and user (ms). */
    readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `attempt` (one login) unless `endpoint` refused `user` within the interval; then throws that refusal again,
   * naming when the next try may be. `isRefusal` tells a refused login (remembered) from any other fault (not).
   */
  async login<T>(endpoint: string, user: string, attempt: () => Promise<T>, isRefusal: (err: unknown) => boolean): Promise<T> {
    const key = JSON.stringify([endpoint, user]);
    // One attempt at a time per endpoint and user: concurrent first callers would each be refused.
    for (let pending = this.inFlight.get(key); pending; pending = this.inFlight.get(key)) await pending.catch(() => undefined);
    const last = this.refused.get(key);
    const now = this.now();
    if (last && now - last.at < this.intervalMs) {
      const next = new Date(last.at + this.intervalMs).toISOString().slice(11, 19);
      throw permanent(
        'BadCredentials',
        `${last.message} (at ${new Date(last.at).toISOString().slice(11, 19)}Z; not tried again before ${next}Z: one failed login per ${Math.round(this.intervalMs / 1000)} s for each endpoint and user, so the account is not locked out)`,
      );
    }
    const running = attempt();
    this.inFlight.set(key, running);
    try {
      const r = await running;
      this.refused.delete(key);
      return r;
    } catch (err) {
      if (isRefusal(err)) this.refused.set(key, { at: this.now(), message: `${endpoint} refused the login of "${user}": ${(err as Error).message}` });
      throw err;
    } finally {
      if (this.inFlight.get(key) === running) this.inFlight.delete(key);
    }
  }
}
