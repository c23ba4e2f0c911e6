/**
 * End-to-end tracing (issue 12): one order's whole saga is one trace. Three separate processes on real
 * PostgreSQL, RabbitMQ and Redis; the trace starts from the caller's `traceparent` header, travels through the
 * outbox rows, the AMQP headers and every consumer, and every log line about the order carries its trace id.
 */
import { afterAll, expect, it } from 'vitest';
import {
  type DistributedPlatform,
  http,
  type PlatformProcess,
  startDistributed,
  token,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, uniqueName, waitFor } from '../support/services.js';

interface LogLine {
  trace_id?: string;
  orderId?: string;
  msg?: string;
  [k: string]: unknown;
}

function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'one trace per saga across three processes', () => {
  let platform: DistributedPlatform | undefined;
  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  it('continues the caller trace through outbox, AMQP and every consumer, and logs it in all three services', async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'trace',
      secret: uniqueName('secret-for-trace-tests-only-0123456789'),
      env: { LOG_LEVEL: 'debug' },
    });
    const procs = platform.processes;
    const [inventory, payment, order] = procs as [PlatformProcess, PlatformProcess, PlatformProcess];
    const admin = platform.adminToken;
    const bob = await token(platform.secret, 'bob', 'customer');
    expect(
      (
        await http('PUT', `${inventory.urls.inventory}/products/trace-sku`, admin, {
          name: 'Traced',
          unitPrice: 300,
          currency: 'EUR',
          stock: 5,
        })
      ).status,
    ).toBe(200);
    expect(
      (await http('PUT', `${payment.urls.payment}/customers/bob`, admin, { balance: 10_000, currency: 'EUR' })).status,
    ).toBe(200);

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const placed = await http(
      'POST',
      `${order.urls.order}/orders`,
      bob,
      { customerId: 'bob', currency: 'EUR', items: [{ productId: 'trace-sku', quantity: 2, unitPrice: 300 }] },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(placed.status).toBe(202);
    expect(placed.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const orderId = placed.body.orderId as string;
    expect((await waitForFinal(order.urls.order!, bob, orderId)).status).toBe('COMPLETED');

    // Every event of the order's stream was written under the same trace (the console shows it).
    const timeline = await http('GET', `${order.urls.order}/admin/console/orders/${orderId}`, admin);
    expect(timeline.status).toBe(200);
    expect(timeline.body.events.map((e: { type: string }) => e.type)).toContain('INVENTORY_COMMITTED');
    expect(timeline.body.traceIds).toEqual([traceId]);

    // The logs of all three processes carry the trace id, and every line naming the order carries it.
    await waitFor(() => procs.every((p) => jsonLines(p.output()).some((l) => l.trace_id === traceId)) || undefined, {
      timeoutMs: 10_000,
      what: 'the trace id in the logs of all three services',
    });
    for (const p of procs) {
      const lines = jsonLines(p.output());
      const traced = lines.filter((l) => l.trace_id === traceId);
      expect(traced.length, `${p.name}: lines with the trace id`).toBeGreaterThan(0);
      const aboutOrder = lines.filter((l) => l.orderId === orderId);
      expect(aboutOrder.length, `${p.name}: lines naming the order`).toBeGreaterThan(0);
      for (const l of aboutOrder) expect(l.trace_id, `${p.name}: ${JSON.stringify(l)}`).toBe(traceId);
    }
    // Another order without a traceparent header gets a trace of its own.
    const second = await http('POST', `${order.urls.order}/orders`, bob, {
      customerId: 'bob',
      currency: 'EUR',
      items: [{ productId: 'trace-sku', quantity: 1, unitPrice: 300 }],
    });
    const secondTrace = /^00-([0-9a-f]{32})-/.exec(second.headers.get('traceparent') ?? '')?.[1];
    expect(secondTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(secondTrace).not.toBe(traceId);
    await waitForFinal(order.urls.order!, bob, second.body.orderId);
    const secondTimeline = await http('GET', `${order.urls.order}/admin/console/orders/${second.body.orderId}`, admin);
    expect(secondTimeline.body.traceIds).toEqual([secondTrace]);
  });
});
