// The worker process: connect, run until SIGINT/SIGTERM, then drain in-flight tasks and exit.
import { createServer } from 'node:net';
import Fastify from 'fastify';
import { loadSettings } from '../config/settings';
import { metricsHandler, WorkerMetrics } from '../telemetry/metrics';
import { temporalTarget, type TemporalTarget } from '../temporal/target';
import { connectWorkerPatiently } from './connect';
import { createLogger, createWorker, installRuntime } from './worker';

export interface WorkerProcessOptions {
  /** Default: the environment's Temporal settings. */
  target?: TemporalTarget;
  /** Default: POOLPILOT_CREDENTIALS_FILE. */
  credentialsFile?: string;
}

/** A free loopback port, for the SDK's own metrics exporter (read only by this process's /metrics). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function runWorker(o: WorkerProcessOptions = {}): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger(settings.POOLPILOT_LOG_LEVEL);
  const metricsPort = settings.POOLPILOT_METRICS_PORT;
  const sdkAddress = metricsPort !== undefined ? `127.0.0.1:${await freePort()}` : undefined;
  installRuntime(logger, sdkAddress);
  const target = o.target ?? temporalTarget();
  const metrics = metricsPort !== undefined ? new WorkerMetrics() : undefined;
  const { connection, value: worker } = await connectWorkerPatiently(
    target,
    (connection) => createWorker({ connection, namespace: target.namespace, logger, metrics, credentialsFile: o.credentialsFile ?? settings.POOLPILOT_CREDENTIALS_FILE }),
    (p) => logger.warn({ address: target.address, attempt: p.attempt, retryInMs: p.retryInMs }, `cannot reach Temporal at ${target.address}: ${p.reason}; trying again in ${Math.round(p.retryInMs / 1000)} s`),
  );
  let server: ReturnType<typeof Fastify> | undefined;
  if (metrics && metricsPort !== undefined) {
    server = Fastify({ logger: false });
    const sdk = async () => (await fetch(`http://${sdkAddress}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    server.get('/metrics', metricsHandler(metrics.registry, sdk, () => metrics.dropStale()));
    server.get('/healthz', async () => ({ ok: true, state: worker.getState() }));
    await server.listen({ host: settings.POOLPILOT_METRICS_HOST, port: metricsPort });
    logger.info({ url: `http://${settings.POOLPILOT_METRICS_HOST}:${(server.server.address() as { port: number }).port}/metrics` }, 'metrics endpoint');
  }
  logger.info({ address: target.address, namespace: target.namespace, taskQueue: settings.POOLPILOT_TASK_QUEUE }, 'worker running');
  // Runtime.install's default shutdown signals (SIGINT, SIGTERM...) make run() resolve after in-flight tasks finish.
  await worker.run();
  await server?.close();
  await connection.close();
  logger.info('worker stopped');
}

if (require.main === module) {
  runWorker().catch((err: Error) => {
    console.error(`poolpilot worker: ${err.message}`);
    process.exit(1);
  });
}
