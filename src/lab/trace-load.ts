// The OpenStack demo's load: a real trace replayed as a Prometheus gauge. Nova's fake driver boots no guest, so no
// request can be served; the demand the autoscaler reads is the trace's, compressed in time, at a port the lab's
// Prometheus scrapes (job "demand").
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Gauge, Registry } from 'prom-client';
import { parseTraceCsv } from '../config/trace';

export const DEMAND_METRIC = 'poolpilot_demo_demand_rps';

export interface TraceReplayOptions {
  file: string;
  /** The first trace step replayed, and how many. */
  from: number;
  steps: number;
  /** Real milliseconds each trace step lasts. */
  stepMs: number;
  /** Trace values (per step) × scale = requests per second of demand. */
  scale: number;
  host: string;
  port: number;
}

/** A load the scenario drives: its latest reading, and when it stopped. */
export interface LoadReading {
  users: number;
  rps: number;
  p95: number;
  requests: number;
  failures: number;
}

export class TraceReplay {
  private readonly values: Float64Array;
  private readonly registry = new Registry();
  private readonly gauge: Gauge;
  private server: http.Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private index = 0;
  private offered = 0;
  stoppedAt: number | undefined;

  constructor(private readonly o: TraceReplayOptions) {
    const trace = parseTraceCsv(readFileSync(o.file, 'utf8'), { source: o.file, holdGaps: true });
    this.values = trace.values.subarray(o.from, o.from + o.steps);
    if (this.values.length < o.steps) throw new Error(`${o.file} has ${trace.values.length} steps: cannot replay ${o.steps} from step ${o.from}`);
    this.gauge = new Gauge({ name: DEMAND_METRIC, help: 'Demand replayed from a trace, requests per second', labelNames: ['trace'], registers: [this.registry] });
  }

  get current(): number {
    return this.stoppedAt ? 0 : (this.values[this.index] ?? 0) * this.o.scale;
  }

  async start(): Promise<void> {
    this.server = http.createServer(async (req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(await this.registry.metrics());
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.o.port, this.o.host, () => resolve());
    });
    this.gauge.set({ trace: 'replay' }, this.current);
    this.timer = setInterval(() => {
      this.offered += this.current * (this.o.stepMs / 1000);
      this.index++;
      if (this.index >= this.values.length) {
        this.stoppedAt = Date.now();
        clearInterval(this.timer);
      }
      this.gauge.set({ trace: 'replay' }, this.current);
    }, this.o.stepMs);
  }

  read(): LoadReading {
    return { users: 0, rps: this.current, p95: 0, requests: Math.round(this.offered), failures: 0 };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stoppedAt ??= Date.now();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
