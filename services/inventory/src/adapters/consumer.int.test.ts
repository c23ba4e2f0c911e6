import { randomUUID } from 'node:crypto';
import { commitChange } from '@commerce/kernel';
import { expect, it } from 'vitest';
import { BUSES, consumerThroughRelay } from '../../../../test/support/consumers.js';
import { describeWith, waitFor } from '../../../../test/support/services.js';
import { putProduct } from '../application/putProduct.js';
import { inventoryService, inventoryStore } from '../index.js';

/**
 * The service as the launcher runs it: start(ctx) subscribes 'inventory.order_events', answers go through the
 * outbox and the kernel's relay to inventory_events, where a listener bound like the order saga sees them.
 */
for (const { kind, needs } of BUSES)
  describeWith([...needs], `inventory consumer through the outbox relay on the ${kind} bus`, () => {
    const consumer = consumerThroughRelay({
      kind,
      service: inventoryService,
      settings: { reservationTtlMs: 60_000, maxDeliveryAttempts: 3 },
      answers: { exchange: 'inventory_events', routingKey: 'inventory.#' },
      seed: (db) =>
        commitChange(
          db,
          putProduct(
            { store: inventoryStore, now: () => new Date() },
            { productId: 'mug', name: 'Mug', unitPrice: 800, currency: 'EUR', stock: 3 },
          ),
        ),
    });
    const { publish, answers } = consumer;

    const order = (quantity: number, currency = 'EUR', productId = 'mug', unitPrice = 800) => ({
      customerId: 'c1',
      currency,
      items: [{ productId, quantity, unitPrice }],
      totalAmount: quantity * unitPrice,
    });

    it.each([
      ['INVENTORY_RESERVED', order(1), { items: order(1).items }],
      ['INVENTORY_RESERVATION_FAILED', order(99), { reason: 'OUT_OF_STOCK', productIds: ['mug'] }],
      ['INVENTORY_RESERVATION_FAILED', order(1, 'EUR', 'zzz'), { reason: 'UNKNOWN_PRODUCT', productIds: ['zzz'] }],
      ['INVENTORY_RESERVATION_FAILED', order(1, 'EUR', 'mug', 1), { reason: 'PRICE_MISMATCH', productIds: ['mug'] }],
      ['INVENTORY_RESERVATION_FAILED', order(1, 'USD'), { reason: 'CURRENCY_MISMATCH', productIds: ['mug'] }],
    ])('ORDER_CREATED → %s %j on inventory_events', async (eventType, data, answer) => {
      const orderId = randomUUID();
      await publish('ORDER_CREATED', orderId, data);
      const [got] = await waitFor(() => (answers(orderId).length > 0 ? answers(orderId) : undefined), {
        what: `answer for ${orderId}`,
      });
      expect(got).toMatchObject({ eventType, source: 'inventory', data: answer });
    });

    it('confirm → INVENTORY_COMMITTED; rollback before create → INVENTORY_RELEASED twice, nothing reserved', async () => {
      const a = randomUUID();
      await publish('ORDER_CREATED', a, order(1));
      await waitFor(() => answers(a).length === 1);
      await publish('ORDER_CONFIRMED', a, {});
      await waitFor(() => answers(a).length === 2, { what: 'INVENTORY_COMMITTED' });
      expect(answers(a).map((e) => e.eventType)).toEqual(['INVENTORY_RESERVED', 'INVENTORY_COMMITTED']);

      const b = randomUUID();
      await publish('ORDER_INVENTORY_ROLLBACK_REQUESTED', b, {});
      await publish('ORDER_CREATED', b, order(1));
      await waitFor(() => answers(b).length === 2, { what: 'two INVENTORY_RELEASED' });
      expect(answers(b).map((e) => e.eventType)).toEqual(['INVENTORY_RELEASED', 'INVENTORY_RELEASED']);
      const mug = await consumer.db.query<{ available: number; reserved: number; sold: number }>(
        'SELECT available, reserved, sold FROM products WHERE product_id = $1',
        ['mug'],
      );
      // 3 units: one reserved by the first test (still open), one sold here.
      expect(mug.rows[0]).toEqual({ available: 1, reserved: 1, sold: 1 });
    });
  });
