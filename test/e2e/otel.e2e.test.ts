/**
 * OpenTelemetry SDK end to end (issue 22, must-show 1): the three services as separate processes export over
 * OTLP/HTTP with the JSON protocol to a receiver in this test. One order is one trace holding the order service's
 * HTTP server span, its `pg` query spans, an AMQP publish span, and the consumer spans of inventory and payment —
 * each span under the `service.name` of the process that made it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type OtlpReceiver, type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from '../support/otlpReceiver.js';
import {
  type DistributedPlatform,
  http,
  placeOrder,
  startDistributed,
  token,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, uniqueName, waitFor } from '../support/services.js';

describeWith(['postgres', 'rabbitmq', 'redis'], 'OpenTelemetry traces over OTLP/HTTP JSON (three processes)', () => {
  let receiver: OtlpReceiver;
  let platform: DistributedPlatform;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'otel',
      env: {
        RATE_LIMIT: 'off',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Export each batch quickly (the SDK's BatchSpanProcessor reads it).
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop({ kill: true });
    await receiver?.close();
  });

  it('one order is one trace: HTTP server span, pg queries, AMQP publish, and the consumers of inventory and payment', async () => {
    const admin = platform.adminToken;
    const productId = uniqueName('sku');
    const customerId = uniqueName('cust');
    await http('PUT', `${platform.urls.inventory}/products/${productId}`, admin, {
      name: 'Traced widget',
      unitPrice: 250,
      currency: 'EUR',
      stock: 10,
    });
    await http('PUT', `${platform.urls.payment}/customers/${customerId}`, admin, { balance: 10_000, currency: 'EUR' });
    const bearer = await token(platform.secret, customerId, 'customer');
    const orderId = await placeOrder(platform.urls.order as string, bearer, {
      customerId,
      currency: 'EUR',
      items: [{ productId, quantity: 2, unitPrice: 250 }],
    });
    expect((await waitForFinal(platform.urls.order as string, bearer, orderId)).status).toBe('COMPLETED');

    // The trace of the POST /orders server span.
    const server = await waitFor(
      () =>
        receiver.spans.find((s) => s.service === 'order' && s.kind === SPAN_KIND.server && s.name === 'POST /orders'),
      { timeoutMs: 20_000, what: 'the POST /orders server span' },
    );
    const inTrace = () => receiver.spans.filter((s) => s.traceId === server.traceId);
    const has = (what: string, pred: (s: ReceivedSpan) => boolean) =>
      waitFor(() => inTrace().find(pred), { timeoutMs: 20_000, what });
    const pgSpan = await has(
      'a pg query span of the order service',
      (s) => s.service === 'order' && s.attributes['db.system.name'] === 'postgresql',
    );
    const publish = await has(
      'an AMQP publish span',
      (s) => s.service === 'order' && s.kind === SPAN_KIND.producer && s.scope.includes('instrumentation-amqplib'),
    );
    const inventory = await has(
      'a consumer span of inventory',
      (s) => s.service === 'inventory' && s.kind === SPAN_KIND.consumer,
    );
    const payment = await has(
      'a consumer span of payment',
      (s) => s.service === 'payment' && s.kind === SPAN_KIND.consumer,
    );
    expect(pgSpan.scope).toContain('instrumentation-pg');
    expect(publish.name).toBe('publish order_events');
    // The saga's own consumer (order service) sees the results in the same trace.
    await has('a consumer span of the order saga', (s) => s.service === 'order' && s.kind === SPAN_KIND.consumer);
    for (const s of [inventory, payment]) expect(s.traceId).toBe(server.traceId);
    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
    // Every span of the trace is under one of the three services' names.
    expect(new Set(inTrace().map((s) => s.service))).toEqual(new Set(['order', 'inventory', 'payment']));
  });
});
