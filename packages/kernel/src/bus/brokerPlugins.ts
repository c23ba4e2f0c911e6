/**
 * RabbitMQ features that come from plugins: a broker without them must stop the start with a line an operator can
 * act on, not a channel error when the first partitioned subscription declares its exchange.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { errorMessage } from './retry.js';

/** An exchange type the platform declares, and the broker plugin that provides it. */
export interface ExchangeTypeNeed {
  type: string;
  plugin: string;
}

/** Partitioned consumption (the order saga's workers) spreads messages through this exchange type. */
export const PARTITION_EXCHANGE: ExchangeTypeNeed = {
  type: 'x-consistent-hash',
  plugin: 'rabbitmq_consistent_hash_exchange',
};

export class MissingBrokerPluginError extends Error {
  override readonly name = 'MissingBrokerPluginError';
  constructor(readonly need: ExchangeTypeNeed) {
    super(
      `RabbitMQ does not know the exchange type ${need.type}: enable the ${need.plugin} plugin ` +
        `(rabbitmq-plugins enable ${need.plugin}) and start again`,
    );
  }
}

/**
 * Declares (then deletes) a throw-away exchange of each type. The broker answers an unknown type by closing the whole
 * connection (503 COMMAND_INVALID), so the probe runs on a connection of its own; that answer becomes a
 * MissingBrokerPluginError naming the plugin.
 */
export async function requireExchangeTypes(url: string, needs: readonly ExchangeTypeNeed[]): Promise<void> {
  if (needs.length === 0) return;
  const conn = await amqp.connect(url, { clientProperties: { connection_name: 'commerce plugin check' } });
  let refusal = '';
  conn.on('error', (err) => {
    refusal = errorMessage(err);
  });
  try {
    for (const need of needs) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      const probe = `commerce.probe.${randomUUID()}`;
      try {
        await ch.assertExchange(probe, need.type, { durable: false, autoDelete: true });
        await ch.deleteExchange(probe);
        await ch.close();
      } catch (err) {
        // The channel's own rejection says only "Channel ended"; the connection's close carries the reason.
        await new Promise((resolve) => setImmediate(resolve));
        if (/exchange type/i.test(`${refusal} ${errorMessage(err)}`)) throw new MissingBrokerPluginError(need);
        throw err;
      }
    }
  } finally {
    await conn.close().catch(() => {});
  }
}
