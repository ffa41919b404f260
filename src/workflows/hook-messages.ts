// The scaling runs' lifecycle-hook message and its types. Clients import this module, never the workflow code.
import { defineUpdate } from '@temporalio/workflow';

export type HookResult = 'CONTINUE' | 'ABANDON';

export interface HookCompletion {
  member: string;
  hook: string;
  result: HookResult;
  /** The API token's name that completed it (logged with the run). */
  by?: string;
}

/** Completes a hook an operator is waited for: `poolpilot hook complete CLUSTER MEMBER HOOK CONTINUE|ABANDON`. */
export const completeHookUpdate = defineUpdate<{ completed: true; member: string; hook: string; result: HookResult }, [HookCompletion]>('completeHook');
