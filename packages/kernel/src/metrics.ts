import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { PROCESS_METRICS } from './businessMetrics.js';

/** HTTP metrics of one server, in its own registry (several servers share a process in the embedded default). */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
}

/**
 * Messages a consumer received again after it had handled them (a redelivery, a second publish after a lost
 * confirm, a relay re-sending a row): the inbox (or the de-duplication cache in front of it) absorbed them. One
 * counter per process, by consumer; every service registry of the process shows it.
 */
export const inboxDuplicatesTotal = new Counter({
  name: 'commerce_inbox_duplicates_total',
  help: 'Deliveries of a message the consumer had already handled, absorbed by the inbox, by consumer',
  labelNames: ['consumer'],
  registers: [],
});

/** Webhook deliveries (docs/webhooks.md): attempts by outcome, their latency, backlog age, disabled endpoints. */
export const webhookMetrics = {
  attempts: new Counter({
    name: 'commerce_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retry (failed, will be retried), failed (given up), disabled (endpoint disabled)',
    labelNames: ['outcome'],
    registers: [],
  }),
  latency: new Histogram({
    name: 'commerce_webhook_attempt_duration_seconds',
    help: 'Time of one webhook attempt, from connecting to the end of the answer (or the error)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [],
  }),
  oldestPending: new Gauge({
    name: 'commerce_webhook_oldest_pending_seconds',
    help: 'Age of the oldest pending webhook delivery, per endpoint',
    labelNames: ['endpoint'],
    registers: [],
  }),
  disabledEndpoints: new Gauge({
    name: 'commerce_webhook_endpoints_disabled',
    help: 'Webhook endpoints currently disabled (by an operator, a 410 Gone, or failing for WEBHOOK_DISABLE_AFTER_MS)',
    registers: [],
  }),
};

/** A registry with the process's default metrics and the kernel's counters, labelled with the service name. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(inboxDuplicatesTotal);
  if (service === 'order') for (const m of Object.values(webhookMetrics)) registry.registerMetric(m as Metric<string>);
  // Business metrics counted on the hot path (businessMetrics.ts); the scrape-time gauges are added per service.
  for (const metric of PROCESS_METRICS) registry.registerMetric(metric);
  return registry;
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  return {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
