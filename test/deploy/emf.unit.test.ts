/**
 * AWS (issue 22): the outbox lag and the dead-letter depth reach CloudWatch as Embedded Metric Format log lines,
 * under the names the Terraform alarms read — the alarms module's defaults, the example's environment and the
 * reporter's own constants must agree, or an alarm waits on a metric nothing publishes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createLogger, EMF_METRICS, EmfReporter, loadSettings, SETTINGS } from '@commerce/kernel';
import { describe, expect, it } from 'vitest';
import { ROOT } from './composeEnv.js';

const require = createRequire(import.meta.url);
const hcl = require('hcl2-parser') as { parseToObject(input: string): [unknown, unknown] };
const parse = (path: string) => hcl.parseToObject(readFileSync(join(ROOT, path), 'utf8'))[0] as Record<string, unknown>;

/** An HCL expression as hcl2-parser gives it: `${...}`. */
const tf = (expr: string) => `\${${expr}}`;

interface EmfDoc {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [k: string]: unknown;
}

describe('CloudWatch EMF lines', () => {
  it('one line per service with its outbox lag and backlog, one per dead-letter queue with its depth', async () => {
    const lines: string[] = [];
    const db = { query: async () => ({ rows: [{ n: '3', age: '12.5' }], rowCount: 1 }) } as never;
    const reporter = new EmfReporter({
      namespace: 'CommercePlatform',
      intervalMs: 60_000,
      services: [
        { name: 'order', db },
        { name: 'payment', db },
      ],
      bus: { deadLetters: { queues: async () => [{ queue: 'payment.order_events', depth: 2 }] } as never },
      log: createLogger({ level: 'silent' }),
      write: (l) => lines.push(l),
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    await reporter.report();
    const docs = lines.map((l) => JSON.parse(l) as EmfDoc);
    expect(docs).toHaveLength(3);
    const order = docs[0] as EmfDoc;
    expect(order._aws.Timestamp).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(order._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'CommercePlatform',
      Dimensions: [['Service']],
      Metrics: [
        { Name: 'OutboxLagSeconds', Unit: 'Seconds' },
        { Name: 'OutboxUnpublishedMessages', Unit: 'Count' },
      ],
    });
    expect(order).toMatchObject({ Service: 'order', OutboxLagSeconds: 12.5, OutboxUnpublishedMessages: 3 });
    expect(docs[2]).toMatchObject({ Queue: 'payment.order_events', DeadLetterMessages: 2 });
    expect(docs[2]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Queue']]);
  });

  it('are on when CLOUDWATCH_EMF_INTERVAL_MS is set, in CLOUDWATCH_METRICS_NAMESPACE', () => {
    expect(loadSettings({}).emf).toBeUndefined();
    expect(loadSettings({ CLOUDWATCH_EMF_INTERVAL_MS: '60000', CLOUDWATCH_METRICS_NAMESPACE: 'Shop' }).emf).toEqual({
      intervalMs: 60_000,
      namespace: 'Shop',
    });
    expect(() => loadSettings({ CLOUDWATCH_EMF_INTERVAL_MS: '5' })).toThrow(/CLOUDWATCH_EMF_INTERVAL_MS/);
  });
});

describe('Terraform alarms read what is published', () => {
  const variables = parse('deploy/terraform/modules/alarms/variables.tf').variable as Record<
    string,
    { default?: unknown }[]
  >;
  const alarms = parse('deploy/terraform/modules/alarms/main.tf').resource as Record<
    string,
    Record<string, Record<string, unknown>[]>
  >;

  it('the outbox lag alarm: namespace, metric name and dimension of the EMF lines', () => {
    expect(variables.metrics_namespace?.[0]?.default).toBe(SETTINGS.properties.CLOUDWATCH_METRICS_NAMESPACE.default);
    expect(variables.outbox_lag_metric_name?.[0]?.default).toBe(EMF_METRICS.outboxLag);
    const lag = alarms.aws_cloudwatch_metric_alarm?.outbox_lag?.[0] as Record<string, unknown>;
    expect(lag.namespace).toBe(tf('var.metrics_namespace'));
    expect(lag.metric_name).toBe(tf('var.outbox_lag_metric_name'));
    expect(Object.keys(lag.dimensions as object)).toEqual([EMF_METRICS.serviceDimension]);
  });

  it('the AWS example turns the EMF lines on, in the namespace its alarms read', () => {
    const main = readFileSync(join(ROOT, 'deploy/terraform/examples/aws/main.tf'), 'utf8');
    expect(main).toMatch(/CLOUDWATCH_EMF_INTERVAL_MS\s+= "\d+"/);
    expect(main).toMatch(/CLOUDWATCH_METRICS_NAMESPACE = local\.metrics_namespace/);
    const alarmsBlock = main.slice(
      main.indexOf('module "alarms" {'),
      main.indexOf('\n}\n', main.indexOf('module "alarms" {')),
    );
    expect(alarmsBlock).toMatch(/metrics_namespace\s+= local\.metrics_namespace/);
  });
});
