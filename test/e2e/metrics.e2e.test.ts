/**
 * Business metrics on a running distributed platform (issue 22):
 * - every metric name the Grafana dashboard and the Prometheus alert rules use (deploy/observability) exists on
 *   the services' /metrics;
 * - one order moves the delivery, outbox publish and saga-outcome counters and the order-to-final histogram;
 * - when the platform stops consuming and publishing (the broker refuses its connections), the outbox backlog and
 *   its oldest age grow and drain again afterwards; an unreadable message shows up in the dead-letter depth.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exposedFamilies, exposes, observedMetricNames, sampleSum } from '../support/observability.js';
import {
  type DistributedPlatform,
  http,
  placeOrder,
  type Service,
  startDistributed,
  token,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, rabbitApi, uniqueName, waitFor } from '../support/services.js';

describeWith(['postgres', 'rabbitmq', 'redis'], 'business metrics (three processes)', () => {
  let platform: DistributedPlatform;
  const url = (s: Service) => platform.urls[s] as string;
  const scrape = async (s: Service) => (await fetch(`${url(s)}/metrics`)).text();

  beforeAll(async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'metrics',
      env: { RATE_LIMIT: 'off', OUTBOX_RELAY_GRACE_MS: '200' },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  async function fixture() {
    const productId = uniqueName('sku');
    const customerId = uniqueName('cust');
    const admin = platform.adminToken;
    await http('PUT', `${url('inventory')}/products/${productId}`, admin, {
      name: 'Metric widget',
      unitPrice: 500,
      currency: 'EUR',
      stock: 100,
    });
    await http('PUT', `${url('payment')}/customers/${customerId}`, admin, { balance: 100_000, currency: 'EUR' });
    const bearer = await token(platform.secret, customerId, 'customer');
    const order = () =>
      placeOrder(url('order'), bearer, {
        customerId,
        currency: 'EUR',
        items: [{ productId, quantity: 1, unitPrice: 500 }],
      });
    return { bearer, order };
  }

  it('one order counts deliveries, publishes, the saga outcome and its latency', async () => {
    const f = await fixture();
    const orderId = await f.order();
    expect((await waitForFinal(url('order'), f.bearer, orderId)).status).toBe('COMPLETED');
    const order = await scrape('order');
    expect(sampleSum(order, 'commerce_saga_outcomes_total', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(order, 'commerce_order_to_final_seconds_count', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sampleSum(order, 'commerce_outbox_published_messages_total')).toBeGreaterThanOrEqual(1);
    expect(
      sampleSum(order, 'commerce_consumer_deliveries_total', { queue: 'order.saga', outcome: 'handled' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sampleSum(order, 'commerce_partitions_owned', { queue: 'order.saga' })).toBe(
      sampleSum(order, 'commerce_partitions_configured', { queue: 'order.saga' }),
    );
    expect(sampleSum(order, 'commerce_build_info')).toBe(1);
    expect(sampleSum(order, 'commerce_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    const inventory = await scrape('inventory');
    expect(
      sampleSum(inventory, 'commerce_consumer_deliveries_total', {
        queue: 'inventory.order_events',
        outcome: 'handled',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleSum(inventory, 'commerce_outbox_unpublished_messages', { service: 'inventory' })).toBeDefined();
  });

  it('exposes every metric name the dashboard and the alert rules use', async () => {
    const families = new Map<string, string>();
    for (const s of ['order', 'inventory', 'payment'] as const)
      for (const [name, type] of exposedFamilies(await scrape(s))) families.set(name, type);
    const missing = [...observedMetricNames()].filter(([name]) => !exposes(families, name));
    expect(missing.map(([name, where]) => `${name} (${where.join(', ')})`)).toEqual([]);
    expect(observedMetricNames().size).toBeGreaterThan(15);
  });

  it('shows the outbox backlog grow while nothing can publish, and an unreadable message in the dead-letter depth', async () => {
    const f = await fixture();
    const vhost = encodeURIComponent(platform.vhost);
    // A message nobody can read goes to payment's dead-letter queue at once.
    const before =
      sampleSum(await scrape('payment'), 'commerce_dead_letter_messages', { queue: 'payment.order_events' }) ?? 0;
    await rabbitApi('POST', `/exchanges/${vhost}/amq.default/publish`, {
      routing_key: 'payment.order_events',
      payload: 'not an envelope',
      payload_encoding: 'string',
      properties: { message_id: uniqueName('bad') },
    });
    await waitFor(
      async () =>
        (sampleSum(await scrape('payment'), 'commerce_dead_letter_messages', { queue: 'payment.order_events' }) ?? 0) >
        before,
      { timeoutMs: 15_000, what: 'the dead-letter depth of payment.order_events to grow' },
    );
    expect(
      sampleSum(await scrape('payment'), 'commerce_consumer_deliveries_total', {
        queue: 'payment.order_events',
        outcome: 'dead_lettered',
      }),
    ).toBeGreaterThanOrEqual(1);

    // The broker refuses the platform's connections: nothing is consumed or published; the outbox keeps the rows.
    await rabbitApi('PUT', `/vhost-limits/${vhost}/max-connections`, { value: 0 });
    try {
      const connections = async () =>
        (await (await rabbitApi('GET', `/vhosts/${vhost}/connections`)).json()) as { name: string }[];
      await waitFor(
        async () => {
          const open = await connections();
          for (const c of open) await rabbitApi('DELETE', `/connections/${encodeURIComponent(c.name)}`);
          // Closed ones may still be listed a moment: the bus's health says when the order service lost it.
          const ready = await http('GET', `${url('order')}/health/ready`, undefined);
          return open.length === 0 && ready.status === 503;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the platform to lose its broker connections' },
      );
      const orderId = await f.order();
      const backlog = await waitFor(
        async () => {
          const m = await scrape('order');
          const rows = sampleSum(m, 'commerce_outbox_unpublished_messages') ?? 0;
          const age = sampleSum(m, 'commerce_outbox_oldest_unpublished_age_seconds') ?? 0;
          return rows >= 1 && age >= 1 ? { rows, age } : undefined;
        },
        { timeoutMs: 20_000, what: 'an outbox backlog over a second old on the order service' },
      );
      expect(backlog.rows).toBeGreaterThanOrEqual(1);
      expect(
        sampleSum(await scrape('order'), 'commerce_outbox_publish_batches_total', { result: 'failed' }),
      ).toBeGreaterThanOrEqual(1);
      await rabbitApi('DELETE', `/vhost-limits/${vhost}/max-connections`);
      // Connections allowed again: the relay publishes the backlog and the order finishes.
      expect((await waitForFinal(url('order'), f.bearer, orderId, 60_000)).status).toBe('COMPLETED');
      await waitFor(async () => sampleSum(await scrape('order'), 'commerce_outbox_unpublished_messages') === 0, {
        timeoutMs: 20_000,
        what: 'the order outbox to drain',
      });
      expect(sampleSum(await scrape('order'), 'commerce_outbox_oldest_unpublished_age_seconds')).toBe(0);
    } finally {
      await rabbitApi('DELETE', `/vhost-limits/${vhost}/max-connections`).catch(() => {});
    }
  }, 120_000);
});
