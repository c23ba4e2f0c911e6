import { randomUUID } from 'node:crypto';
import { commitChange } from '@commerce/kernel';
import { expect, it } from 'vitest';
import { BUSES, consumerThroughRelay } from '../../../../test/support/consumers.js';
import { describeWith, waitFor } from '../../../../test/support/services.js';
import { putAccount } from '../application/putAccount.js';
import { paymentDeps, paymentService } from '../index.js';
import { readAccount } from './store.js';

/**
 * The service as the launcher runs it: start(ctx) subscribes 'payment.order_events', answers go through the
 * outbox and the kernel's relay to payment_events, where a listener bound like the order saga sees them.
 */
for (const { kind, needs } of BUSES)
  describeWith([...needs], `payment consumer through the outbox relay on the ${kind} bus`, () => {
    const consumer = consumerThroughRelay({
      kind,
      service: paymentService,
      settings: { maxDeliveryAttempts: 3 },
      answers: { exchange: 'payment_events', routingKey: 'payment.#' },
      seed: async (db) => {
        const deps = paymentDeps({ now: () => new Date(), newId: randomUUID });
        await commitChange(db, putAccount(deps, { customerId: 'dora', balance: 1000, currency: 'EUR' }));
      },
    });
    const { publish, answers } = consumer;

    const order = (totalAmount: number, currency = 'EUR', customerId = 'dora') => ({
      customerId,
      currency,
      items: [{ productId: 'p', quantity: 1, unitPrice: totalAmount }],
      totalAmount,
    });

    it.each([
      ['PAYMENT_APPROVED', order(400), { amount: 400, currency: 'EUR' }],
      ['PAYMENT_DECLINED', order(5000), { reason: 'INSUFFICIENT_FUNDS' }],
      ['PAYMENT_DECLINED', order(1, 'EUR', 'nobody'), { reason: 'UNKNOWN_CUSTOMER' }],
      ['PAYMENT_DECLINED', order(1, 'GBP'), { reason: 'CURRENCY_MISMATCH' }],
    ])('ORDER_CREATED → %s %j on payment_events', async (eventType, data, answer) => {
      const orderId = randomUUID();
      await publish('ORDER_CREATED', orderId, data);
      const [got] = await waitFor(() => (answers(orderId).length > 0 ? answers(orderId) : undefined), {
        what: `answer for ${orderId}`,
      });
      expect(got).toMatchObject({ eventType, source: 'payment', data: answer });
    });

    it('rollback → PAYMENT_REFUNDED with the amount, once; the balance is whole again', async () => {
      const orderId = randomUUID();
      await publish('ORDER_CREATED', orderId, order(250));
      await waitFor(() => answers(orderId).length === 1);
      await publish('ORDER_PAYMENT_ROLLBACK_REQUESTED', orderId, { amount: 250, currency: 'EUR' });
      await waitFor(() => answers(orderId).length === 2, { what: 'PAYMENT_REFUNDED' });
      expect(answers(orderId)[1]).toMatchObject({
        eventType: 'PAYMENT_REFUNDED',
        data: { amount: 250, currency: 'EUR' },
      });
      // 1000 - 400 (first test, approved and never refunded)
      expect((await readAccount(consumer.db, 'dora'))?.balance).toBe(600);
    });
  });
