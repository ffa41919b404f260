// The API's alert receivers: Alertmanager's webhook and Senlin-style receivers. Each call is an alarm, which the
// autoscaler's policy takes or drops (a run under way, a cooldown, a bound); alarms are never queued.
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { MAX_ALERTS_PER_WEBHOOK } from '../config/limits';
import { SENLIN_RECEIVER_ROUTE } from '../config/import-common';
import type { RequestKind } from '../workflows/autoscaler-messages';
import { by, clusterParams, errorReply, requestResult, textCount, type ZodApp } from './api-schemas';
import { ClusterRequestError, sendRequest } from './clusters';

const alertSchema = z.looseObject({
  status: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const alertmanagerBody = z
  .looseObject({
    status: z.string().optional(),
    alerts: z.array(alertSchema, { error: 'not an Alertmanager webhook: "alerts" must be a list' }).max(MAX_ALERTS_PER_WEBHOOK, `at most ${MAX_ALERTS_PER_WEBHOOK} alerts in one call (Alertmanager's max_alerts)`),
  })
  .describe("Alertmanager's webhook payload (version 4)");

const senlinActions: Record<string, RequestKind> = { CLUSTER_SCALE_OUT: 'scale-out', CLUSTER_SCALE_IN: 'scale-in', CLUSTER_RESIZE: 'set-desired' };

export function receiverRoutes(r: ZodApp, client: Client): void {
  /**
   * Alertmanager's webhook (version 4): each firing alert becomes one alarm request, which the autoscaler's policy
   * takes or drops (a run under way, a cooldown, a bound) — Alertmanager re-sends firing alerts, so they are never
   * queued. The action comes from the alert's `poolpilot_action` label (scale_out | scale_in), else the URL's ?action=;
   * the count from `poolpilot_count`, else ?count=, else 1. Resolved alerts are acknowledged and change nothing.
   */
  r.post(
    '/webhooks/alertmanager/:name',
    {
      config: { right: 'operate' },
      schema: {
        summary: "Alertmanager's webhook: firing alerts become alarms",
        params: clusterParams,
        querystring: z.strictObject({ action: z.enum(['scale_out', 'scale_in', 'scale-out', 'scale-in']).optional(), count: z.string().optional() }),
        body: alertmanagerBody,
        response: { 202: z.object({ cluster: z.string(), results: z.array(z.looseObject({ alert: z.string() })) }), 400: errorReply },
      },
    },
    async (req, reply) => {
      const cluster = req.params.name;
      const results = [];
      for (const alert of req.body.alerts) {
        const name = alert.labels?.alertname ?? '(unnamed)';
        if ((alert.status ?? req.body.status) !== 'firing') {
          results.push({ alert: name, ignored: 'resolved' });
          continue;
        }
        const action = (alert.labels?.poolpilot_action ?? req.query.action ?? '').replace('_', '-');
        if (action !== 'scale-out' && action !== 'scale-in') throw new ClusterRequestError(`alert ${name}: set label poolpilot_action to scale_out or scale_in (or ?action= on the URL)`, 400);
        const n = textCount(`alert ${name}: poolpilot_count`, 1, alert.labels?.poolpilot_count ?? req.query.count ?? '1');
        results.push({ alert: name, ...(await sendRequest(client, cluster, action, n, name, 'alarm', by(req))) });
      }
      reply.code(202);
      return { cluster, results };
    },
  );

  /**
   * Senlin-style receiver: POST /v1/webhooks/<cluster>/trigger?action=CLUSTER_SCALE_OUT&count=2; an alarm, as in Senlin.
   * Senlin's own URLs carry ?V=2 (the webhook API version), kept so that a receiver's URL moves over as it is. Aodh
   * calls such a URL as an alarm action with the alarm's state change as the body ({alarm_id, alarm_name, current,
   * previous, reason, …}): only a change into "alarm" is an alarm; "ok" or "insufficient data" (an ok_action or
   * insufficient_data_action pointed here) is answered and changes nothing, as a resolved Alertmanager alert is.
   */
  r.post(
    SENLIN_RECEIVER_ROUTE,
    {
      config: { right: 'operate' },
      schema: {
        summary: 'Senlin-style receiver, also as an Aodh alarm action: an alarm',
        params: clusterParams,
        querystring: z.strictObject({ action: z.string().optional(), count: z.string().optional(), capacity: z.string().optional(), V: z.string().optional() }),
        body: z
          .looseObject({
            action: z.string().optional(),
            params: z.looseObject({ count: z.unknown().optional(), capacity: z.unknown().optional() }).optional(),
            // Aodh's notification (aodh/notifier/rest.py): the alarm and its state change.
            alarm_id: z.string().optional(),
            alarm_name: z.string().max(255).optional(),
            current: z.string().optional(),
            previous: z.string().optional(),
            reason: z.string().optional(),
          })
          // A Senlin receiver is called with no body at all (curl -X POST <alarm_url>).
          .nullish(),
        response: { 202: requestResult, 400: errorReply },
      },
    },
    async (req, reply) => {
      const action = req.query.action ?? req.body?.action;
      const kind = action ? senlinActions[action] : undefined;
      if (!kind) throw new ClusterRequestError(`action must be one of ${Object.keys(senlinActions).join(', ')}, not ${JSON.stringify(action)}`, 400);
      const b = req.body ?? {};
      const aodh = b.current !== undefined || b.alarm_id !== undefined ? `aodh:${b.alarm_name ?? b.alarm_id ?? 'unnamed'}` : undefined;
      reply.code(202);
      if (aodh && b.current !== 'alarm') {
        return { accepted: false, code: 'AlarmNotFiring', reason: `${aodh} went ${b.previous ?? '?'} → ${b.current ?? '?'}: only a change into "alarm" scales; nothing was changed` };
      }
      const p = b.params ?? {};
      const raw = req.query.count ?? p.count ?? (kind === 'set-desired' ? (req.query.capacity ?? p.capacity) : 1);
      const n = textCount(kind === 'set-desired' ? 'capacity' : 'count', kind === 'set-desired' ? 0 : 1, raw);
      return sendRequest(client, req.params.name, kind, n, aodh ?? `webhook:${action}`, 'alarm', by(req));
    },
  );
}
