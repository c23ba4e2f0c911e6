import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
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

/** A registry with the process's default metrics and the kernel's counters, labelled with the service name. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(inboxDuplicatesTotal);
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
