/**
 * The risk rules (docs/risk.md): pure functions of the order, the customer's recent history and the thresholds
 * (settings). Each rule that trips gives a score and a reason; the sum decides approve, review or reject.
 *
 * Where a model plugs in: a model is one more `RiskRule` — a function of the same facts that returns a score and a
 * reason (or nothing). Its scores add to the rules' and the same thresholds decide. A model that needs I/O (a
 * remote scorer) is called by the application layer (application/chargePayment.ts, next to the history load) and
 * hands its answer to the decider as a precomputed `RiskSignal`, so that the decider stays pure and a redelivered
 * message is decided from what was recorded, not scored again.
 */
/** The thresholds (the RISK_* settings; the kernel's RiskSettings has this shape). A limit of 0 turns its rule off. */
export interface RiskSettings {
  amountLimit: number;
  firstOrderLimit: number;
  velocityWindowMs: number;
  velocityMaxOrders: number;
  velocityMaxAmount: number;
  maxProductQuantity: number;
  reviewScore: number;
  rejectScore: number;
}

/** The order as the risk step sees it. */
export interface RiskOrder {
  customerId: string;
  amount: number;
  items: readonly { productId: string; quantity: number }[];
}

/** The customer's orders payment saw before this one (any outcome). */
export interface CustomerHistory {
  /** Every earlier order of the customer. */
  priorOrders: number;
  /** Earlier orders within the velocity window (RISK_VELOCITY_WINDOW_MS) before now. */
  ordersInWindow: number;
  /** Their total, minor units. */
  amountInWindow: number;
}

export type RiskRuleName = 'AMOUNT' | 'VELOCITY' | 'FIRST_ORDER' | 'PRODUCT_QUANTITY' | 'MODEL';

/** A tripped rule (or a model's answer): its score and why. */
export interface RiskSignal {
  rule: RiskRuleName;
  score: number;
  reason: string;
}

export type RiskRule = (order: RiskOrder, history: CustomerHistory, s: RiskSettings) => RiskSignal | undefined;

/** What each rule scores when it trips. With the default thresholds (review 50, reject 100): one rule holds the
 * order for review, except the quantity rule alone (a signal, approved); two rules reject (quantity + one other is
 * a review). */
export const RULE_SCORES: Readonly<Record<Exclude<RiskRuleName, 'MODEL'>, number>> = {
  AMOUNT: 60,
  VELOCITY: 50,
  FIRST_ORDER: 50,
  PRODUCT_QUANTITY: 30,
};

export const amountRule: RiskRule = (o, _h, s) =>
  s.amountLimit > 0 && o.amount > s.amountLimit
    ? { rule: 'AMOUNT', score: RULE_SCORES.AMOUNT, reason: `RISK_AMOUNT: total ${o.amount} over ${s.amountLimit}` }
    : undefined;

export const velocityRule: RiskRule = (o, h, s) => {
  if (s.velocityWindowMs <= 0) return undefined;
  const orders = h.ordersInWindow + 1;
  const amount = h.amountInWindow + o.amount;
  const window = `${s.velocityWindowMs} ms`;
  if (s.velocityMaxOrders > 0 && orders > s.velocityMaxOrders)
    return {
      rule: 'VELOCITY',
      score: RULE_SCORES.VELOCITY,
      reason: `RISK_VELOCITY: ${orders} orders within ${window}, more than ${s.velocityMaxOrders}`,
    };
  if (s.velocityMaxAmount > 0 && amount > s.velocityMaxAmount)
    return {
      rule: 'VELOCITY',
      score: RULE_SCORES.VELOCITY,
      reason: `RISK_VELOCITY: ${amount} ordered within ${window}, more than ${s.velocityMaxAmount}`,
    };
  return undefined;
};

export const firstOrderRule: RiskRule = (o, h, s) =>
  s.firstOrderLimit > 0 && h.priorOrders === 0 && o.amount > s.firstOrderLimit
    ? {
        rule: 'FIRST_ORDER',
        score: RULE_SCORES.FIRST_ORDER,
        reason: `RISK_FIRST_ORDER: first order of ${o.customerId} totals ${o.amount}, over ${s.firstOrderLimit}`,
      }
    : undefined;

export const productQuantityRule: RiskRule = (o, _h, s) => {
  if (s.maxProductQuantity <= 0) return undefined;
  const over = o.items.filter((i) => i.quantity > s.maxProductQuantity).map((i) => i.productId);
  return over.length === 0
    ? undefined
    : {
        rule: 'PRODUCT_QUANTITY',
        score: RULE_SCORES.PRODUCT_QUANTITY,
        reason: `RISK_PRODUCT_QUANTITY: more than ${s.maxProductQuantity} of ${over.join(', ')}`.slice(0, 200),
      };
};

/** The rules, in the order their reasons are listed. A model is added here (or passed as a signal). */
export const RISK_RULES: readonly RiskRule[] = [amountRule, velocityRule, firstOrderRule, productQuantityRule];

export type RiskDecision = 'approve' | 'review' | 'reject';

export interface RiskAssessment {
  decision: RiskDecision;
  score: number;
  reasons: string[];
}

/** Whether any rule can trip: with none, payment does not even read the history. */
export function riskRulesEnabled(s: RiskSettings): boolean {
  return (
    s.amountLimit > 0 ||
    s.firstOrderLimit > 0 ||
    (s.velocityWindowMs > 0 && (s.velocityMaxOrders > 0 || s.velocityMaxAmount > 0)) ||
    s.maxProductQuantity > 0
  );
}

/** The sum of the tripped rules' (and given signals') scores decides: reject ≥ RISK_REJECT_SCORE > review ≥ RISK_REVIEW_SCORE. */
export function assessRisk(
  order: RiskOrder,
  history: CustomerHistory,
  s: RiskSettings,
  signals: readonly RiskSignal[] = [],
  rules: readonly RiskRule[] = RISK_RULES,
): RiskAssessment {
  const tripped = [...rules.map((r) => r(order, history, s)), ...signals].filter(
    (x): x is RiskSignal => x !== undefined,
  );
  const score = tripped.reduce((sum, t) => sum + t.score, 0);
  const decision: RiskDecision = score >= s.rejectScore ? 'reject' : score >= s.reviewScore ? 'review' : 'approve';
  return { decision, score, reasons: tripped.map((t) => t.reason) };
}

/** Rules off: what the settings' defaults give. */
export const RISK_OFF: RiskSettings = {
  amountLimit: 0,
  firstOrderLimit: 0,
  velocityWindowMs: 0,
  velocityMaxOrders: 0,
  velocityMaxAmount: 0,
  maxProductQuantity: 0,
  reviewScore: 50,
  rejectScore: 100,
};
