import type { Change } from '@commerce/kernel';
import { type Account, decideAccountPut } from '../domain/payment.js';
import type { PaymentDeps } from './ports.js';

/**
 * Creates or replaces an account; the change of balance is recorded as a `set` movement in the same transaction,
 * so that money conservation (SPEC §9) can be proven from the movements. Two first PUTs of one customer at once
 * apply one after the other: the second sees the account the first created.
 */
export function putAccount(deps: PaymentDeps, put: Account): Change<Account | null, Account> {
  return {
    load: (reader) => deps.store.lockAccountForPut(reader, put.customerId),
    decide: (before) => {
      const now = deps.now();
      const decision = decideAccountPut(before, put, now);
      return {
        effect: {
          writes: [
            deps.store.openAccount(decision.account, now),
            ...(decision.balance ? deps.store.changeBalance(decision.balance, null) : []),
          ],
        },
        result: decision.account,
      };
    },
  };
}
