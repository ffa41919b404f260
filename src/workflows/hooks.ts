// Lifecycle hooks inside a scaling run: each hook of a transition in order, by an HTTP call or by an operator's
// `poolpilot hook complete` (an update to the run), with a timeout and a default result.
import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import { completeHookUpdate, type HookResult } from './hook-messages';
import type { ClusterSpec, HookSpec } from '../config/spec';
import { hookActivities, type InstanceProgress, type OperationProgress } from './shared';

export type { HookCompletion, HookResult } from './hook-messages';

const key = (member: string, hook: string) => `${member}\n${hook}`;

/** Installs the run's completeHook handler and returns the function that runs a transition's hooks for a member. */
export function lifecycleHooks(spec: ClusterSpec, op: number, progress: OperationProgress) {
  const completed = new Map<string, HookResult>();
  setHandler(
    completeHookUpdate,
    (c) => {
      completed.set(key(c.member, c.hook), c.result);
      if (c.by) log.info('hook completed', { cluster: spec.name, op, member: c.member, hook: c.hook, result: c.result, by: c.by });
      return { completed: true as const, ...c };
    },
    {
      validator: (c) => {
        if (c?.result !== 'CONTINUE' && c?.result !== 'ABANDON') throw new Error(`the result must be CONTINUE or ABANDON, not ${JSON.stringify(c?.result)}`);
        const waiting = progress.instances.find((i) => i.name === c.member);
        if (!waiting) throw new Error(`run ${progress.kind}:${progress.cluster}:${op} has no member ${c.member} (it has ${progress.instances.map((i) => i.name).join(', ') || 'none'})`);
        if (waiting.hook !== c.hook) throw new Error(`member ${c.member} is not waiting for hook ${c.hook}${waiting.hook ? ` (it waits for ${waiting.hook})` : ''}`);
      },
    },
  );

  async function one(h: HookSpec, transition: HookSpec['on'], member: string, ip: string | undefined): Promise<HookResult> {
    if (!h.url) {
      const answered = await condition(() => completed.has(key(member, h.name)), h.timeout);
      return answered ? completed.get(key(member, h.name))! : h.default;
    }
    const call = hookActivities(h.timeout);
    try {
      return await call.callLifecycleHook.executeWithOptions({ summary: `${transition} hook ${h.name} for ${member}` }, [
        { url: h.url, timeoutMs: Math.min(h.timeout, 30_000), payload: { cluster: spec.name, member, hook: h.name, transition, ip, op } },
      ]);
    } catch {
      // Unreachable or too slow within its timeout: the hook's default decides.
      return h.default;
    }
  }

  /** Runs the transition's hooks for `member` in order; the first ABANDON ends them. Records each in the progress. */
  return async function runHooks(transition: HookSpec['on'], member: string, ip: string | undefined, p: InstanceProgress): Promise<HookResult> {
    for (const h of (spec.hooks ?? []).filter((x) => x.on === transition)) {
      const step = p.step;
      p.step = 'waiting-hook';
      p.hook = h.name;
      const result = await one(h, transition, member, ip);
      p.hooks = [...(p.hooks ?? []), `${h.name}: ${result}`];
      p.hook = undefined;
      p.step = step;
      if (result === 'ABANDON') return 'ABANDON';
    }
    return 'CONTINUE';
  };
}

export function hookAbandoned(member: string, p: InstanceProgress): ApplicationFailure {
  return ApplicationFailure.create({ type: 'HookAbandoned', nonRetryable: true, message: `launch of ${member} abandoned by its lifecycle hook (${p.hooks?.join(', ')})` });
}
