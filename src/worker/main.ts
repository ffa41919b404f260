// The worker process: connect, run until SIGINT/SIGTERM, then drain in-flight tasks and exit.
import { loadSettings } from '../config/settings';
import { connectWorker, temporalTarget, type TemporalTarget } from '../temporal/connection';
import { createLogger, createWorker, installRuntime } from './worker';

export interface WorkerProcessOptions {
  /** Default: the environment's Temporal settings. */
  target?: TemporalTarget;
  /** Default: POOLPILOT_CREDENTIALS_FILE. */
  credentialsFile?: string;
}

export async function runWorker(o: WorkerProcessOptions = {}): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger(settings.POOLPILOT_LOG_LEVEL);
  installRuntime(logger);
  const target = o.target ?? temporalTarget();
  const connection = await connectWorker(target);
  const worker = await createWorker({ connection, namespace: target.namespace, logger, credentialsFile: o.credentialsFile ?? settings.POOLPILOT_CREDENTIALS_FILE });
  logger.info({ address: target.address, namespace: target.namespace, taskQueue: settings.POOLPILOT_TASK_QUEUE }, 'worker running');
  // Runtime.install's default shutdown signals (SIGINT, SIGTERM...) make run() resolve after in-flight tasks finish.
  await worker.run();
  await connection.close();
  logger.info('worker stopped');
}

if (require.main === module) {
  runWorker().catch((err: Error) => {
    console.error(`poolpilot worker: ${err.message}`);
    process.exit(1);
  });
}
