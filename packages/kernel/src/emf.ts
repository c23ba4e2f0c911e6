/**
 * CloudWatch Embedded Metric Format (docs/deployment.md "Metrics and traces on AWS"): every interval, one log line
 * per service with its outbox backlog, and one per dead-letter queue with its depth, written to stdout as JSON.
 * On ECS the awslogs driver sends stdout to CloudWatch Logs, which turns these lines into metrics — no agent, no
 * API calls. The names are the ones the Terraform alarms read (deploy/terraform/modules/alarms).
 */
import type { MessageBus } from './bus/port.js';
import { readOutboxBacklog } from './businessMetrics.js';
import type { Database } from './db/port.js';
import type { Logger } from './log.js';

/** Metric and dimension names published (the Terraform alarms' defaults read these). */
export const EMF_METRICS = {
  outboxLag: 'OutboxLagSeconds',
  outboxUnpublished: 'OutboxUnpublishedMessages',
  deadLetters: 'DeadLetterMessages',
  serviceDimension: 'Service',
  queueDimension: 'Queue',
} as const;

export interface EmfOptions {
  namespace: string;
  intervalMs: number;
  services: readonly { name: string; db: Pick<Database, 'query'> }[];
  bus?: Pick<MessageBus, 'deadLetters'>;
  log: Logger;
  /** Where lines go (stdout by default). */
  write?: (line: string) => void;
  now?: () => Date;
}

/** One EMF line: the `_aws` directive naming the metrics and dimensions, then their values as members. */
export function emfLine(
  namespace: string,
  at: Date,
  dimensions: Record<string, string>,
  metrics: readonly { name: string; unit: 'Seconds' | 'Count'; value: number }[],
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
  });
}

export class EmfReporter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly write: (line: string) => void;

  constructor(private readonly o: EmfOptions) {
    this.write = o.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.report();
    }, this.o.intervalMs);
    this.timer.unref();
  }

  /** Writes the lines of one interval (a failing read skips its line: the next interval tries again). */
  async report(): Promise<void> {
    const at = (this.o.now ?? (() => new Date()))();
    for (const s of this.o.services) {
      try {
        const b = await readOutboxBacklog(s.db);
        this.write(
          emfLine(this.o.namespace, at, { [EMF_METRICS.serviceDimension]: s.name }, [
            { name: EMF_METRICS.outboxLag, unit: 'Seconds', value: b.oldestAgeSeconds },
            { name: EMF_METRICS.outboxUnpublished, unit: 'Count', value: b.rows },
          ]),
        );
      } catch (err) {
        this.o.log.debug({ err: (err as Error).message, service: s.name }, 'EMF: outbox backlog not read');
      }
    }
    if (!this.o.bus) return;
    try {
      for (const { queue, depth } of await this.o.bus.deadLetters.queues())
        this.write(
          emfLine(this.o.namespace, at, { [EMF_METRICS.queueDimension]: queue }, [
            { name: EMF_METRICS.deadLetters, unit: 'Count', value: depth },
          ]),
        );
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'EMF: dead-letter depth not read');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
