import type { Change, IdempotencyKeyClaim } from '@commerce/kernel';
import { type Account, decideTopUp, type TopUpRefusal } from '../domain/payment.js';
import type { PaymentDeps } from './ports.js';

export type TopUpOutcome = { applied: Account } | { refused: TopUpRefusal; detail: string };

/**
 * Adds money to an account (movement `deposit`, so that money conservation counts it), or refuses: an unknown
 * customer, another currency than the account's, a balance that would pass MAX_BALANCE. With an Idempotency-Key it
 * is applied once: the key commits with the deposit, and a retry of the same request is answered the first account
 * again. A refused top-up commits nothing, not even its key.
 */
export function topUpAccount(
  deps: PaymentDeps,
  topUp: { customerId: string; amount: number; currency: string },
  key?: IdempotencyKeyClaim,
): Change<Account | null, TopUpOutcome> {
  return {
    load: (reader) => deps.store.lockAccount(reader, topUp.customerId),
    decide: (account) => {
      const now = deps.now();
      const decision = decideTopUp(account, topUp, now);
      if ('refused' in decision)
        return {
          effect: {},
          result: { refused: decision.refused, detail: refusalDetail(decision.refused, account, topUp) },
        };
      return {
        effect: {
          idempotencyKey: key ? { claim: key, answer: decision.account, at: now } : undefined,
          writes: deps.store.changeBalance(decision.balance, null),
        },
        result: { applied: decision.account },
      };
    },
  };
}

/** What a user is told about a refused top-up: the field, and what was expected. */
function refusalDetail(
  reason: TopUpRefusal,
  account: Account | null,
  topUp: { customerId: string; amount: number; currency: string },
): string {
  if (reason === 'UNKNOWN_CUSTOMER') return `customer ${topUp.customerId} not found`;
  if (reason === 'CURRENCY_MISMATCH')
    return `currency: expected the account's currency ${account?.currency}, got ${topUp.currency}`;
  return `amount: the balance ${account?.balance} plus ${topUp.amount} would pass the largest balance kept`;
}
