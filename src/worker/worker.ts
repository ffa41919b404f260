// Builds the poolpilot worker: workflows from the bundle, activities from the factory, logs through pino.
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions, type LogLevel } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { createActivities } from '../activities';
import { credentialResolver } from '../activities/credentials';
import { LoginGate } from '../activities/login-gate';
import { loadSettings } from '../config/settings';
import { noMetricsSinks, type WorkerMetrics } from '../telemetry/metrics';

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.js');

let runtimeInstalled = false;

/**
 * Routes the SDK's own logs (workflow `log` included) into pino, once per process; with `sdkMetricsAddress`
 * (host:port), the SDK's own worker metrics (Runtime telemetry) are served there for /metrics to include.
 */
export function installRuntime(logger: Logger, sdkMetricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (logger.level === 'silent' ? 'ERROR' : logger.level.toUpperCase()) as LogLevel;
  Runtime.install({
    ...(sdkMetricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } } : {}),
    logger: new DefaultLogger(level === ('FATAL' as LogLevel) ? 'ERROR' : level, (entry) => {
      const { meta, message } = entry;
      const fn = entry.level === 'ERROR' ? logger.error : entry.level === 'WARN' ? logger.warn : entry.level === 'DEBUG' || entry.level === 'TRACE' ? logger.debug : logger.info;
      fn.call(logger, meta ?? {}, message);
    }),
  });
}

export function createLogger(level = loadSettings().POOLPILOT_LOG_LEVEL): Logger {
  return pino({ level, base: { svc: 'poolpilot-worker' } });
}

export interface PoolpilotWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  logger: Logger;
  credentialsFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the workflows' and activities' metrics go (the /metrics endpoint); none: not recorded. */
  metrics?: WorkerMetrics;
  /** A prebuilt bundle (tests build one and reuse it); else the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  extra?: Partial<WorkerOptions>;
}

export async function createWorker(o: PoolpilotWorkerOptions): Promise<Worker> {
  const env = o.env ?? process.env;
  const settings = loadSettings(env);
  const loginGate = new LoginGate(settings.POOLPILOT_FAILED_LOGIN_INTERVAL);
  const activities = createActivities({ credentials: credentialResolver(env, o.credentialsFile), logger: o.logger, loginGate, vsphereWait: settings.POOLPILOT_VSPHERE_WAIT });
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? loadSettings(o.env).POOLPILOT_TASK_QUEUE,
    activities,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    maxConcurrentActivityTaskExecutions: 200,
    maxConcurrentWorkflowTaskExecutions: 100,
    maxCachedWorkflows: 2000,
    ...(o.metrics ? { sinks: o.metrics.sinks(), interceptors: { activity: [() => ({ inbound: o.metrics!.activityInterceptor() })] } } : { sinks: noMetricsSinks() }),
    ...o.extra,
  });
}
