// The API's shared zod schemas (bodies, parameters, replies): the routes validate with them and the OpenAPI document
// is made from them.
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clusterName } from '../config/spec';
import type { AutoscalerStatus } from '../workflows/autoscaler-messages';
import { ClusterRequestError } from './clusters';

export const errorReply = z.object({ error: z.string(), problems: z.array(z.string()).optional() }).describe('what is wrong, in one message');

/** A count in a JSON body: a JSON integer, never a string or a float. */
export const jsonCount = (field: string, least: number) =>
  z
    .number({ error: (i) => `${field} must be a JSON integer, not ${JSON.stringify(i.input)}` })
    .int({ error: (i) => `${field} must be a whole number, not ${JSON.stringify(i.input)}` })
    .min(least, { error: (i) => `${field} must be at least ${least}, not ${JSON.stringify(i.input)}` });

/** A count in a query string or an alert's label: text by nature, so digits are accepted (and JSON integers). */
export function textCount(field: string, least: number, v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ClusterRequestError(`${field} must be a whole number, not ${JSON.stringify(v)}`, 400);
  if (n < least) throw new ClusterRequestError(`${field} must be at least ${least}, not ${JSON.stringify(v)}`, 400);
  return n;
}

export const scaleBody = z
  .strictObject({ out: jsonCount('out', 1).optional(), in: jsonCount('in', 1).optional(), desired: jsonCount('desired', 0).optional() })
  .refine((b) => [b.out, b.in, b.desired].filter((v) => v !== undefined).length === 1, { error: 'give exactly one of {"out": N}, {"in": N}, {"desired": N}' })
  .describe('exactly one of out, in, desired; JSON integers');

export const requestResult = z
  .object({ accepted: z.boolean(), kind: z.string().optional(), n: z.number().optional(), projected: z.number().optional(), position: z.number().optional(), reason: z.string().optional(), code: z.string().optional() })
  .describe("the autoscaler's answer: queued (with members once queued work has run), or an alarm dropped with the reason");

export const clusterStatusReply = z
  .looseObject({ cluster: z.string(), phase: z.string(), current: z.number(), desired: z.number(), min: z.number(), max: z.number() })
  .describe('the autoscaler status: phase, conditions, members, metrics, queue, runs, decisions (as `poolpilot cluster status --json`)');

export const statusReply = (st: AutoscalerStatus) => st as unknown as z.infer<typeof clusterStatusReply>;

export const unansweredClusterReply = z
  .object({ cluster: z.string(), phase: z.literal('NO_ANSWER'), taskQueue: z.string(), error: z.string() })
  .describe('a running cluster whose worker did not answer in time (its workers are down or stuck): listed, with why');

export const clusterParams = z.object({ name: clusterName });

/** The app as the routes see it: zod schemas type their bodies, parameters and replies. */
export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** The token's name, for the decision log. */
export const by = (req: FastifyRequest): string | undefined => req.principal?.name;
