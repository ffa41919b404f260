// The lifecycle hooks' HTTP calls.
import { deadline } from './cancellation';
import type { ActivityKit, HookCall } from './kit';

export function hookActivities({ log }: ActivityKit) {
  return {
    /**
     * A lifecycle hook's HTTP call: POSTs the member's details and returns the answer (2xx: CONTINUE unless the JSON
     * body says {"result": "ABANDON"}). A refused connection or a 5xx is retried by Temporal until the hook's timeout.
     */
    async callLifecycleHook(req: HookCall): Promise<'CONTINUE' | 'ABANDON'> {
      const started = Date.now();
      let res: Response;
      try {
        res = await fetch(req.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.payload), signal: deadline(req.timeoutMs) });
      } catch (err) {
        throw new Error(`lifecycle hook ${req.payload.hook} at ${req.url} did not answer: ${(err as Error).message}`, { cause: err });
      }
      const text = await res.text();
      log(req.payload.cluster, req.payload.member).info({ hook: req.payload.hook, status: res.status, ms: Date.now() - started }, 'lifecycle hook answered');
      if (res.status >= 500) throw new Error(`lifecycle hook ${req.payload.hook} at ${req.url} answered HTTP ${res.status}`);
      if (res.status >= 400) return 'ABANDON';
      try {
        return (JSON.parse(text) as { result?: string }).result === 'ABANDON' ? 'ABANDON' : 'CONTINUE';
      } catch {
        return 'CONTINUE';
      }
    },
  };
}
