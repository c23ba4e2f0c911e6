/**
 * The risk review's settings (docs/risk.md): the thresholds of payment's risk rules, the scores that decide review
 * or reject, and how long an order may wait for a person. Part of SETTINGS (config.ts); a limit of 0 turns its rule
 * off, and every rule is off by default, so that ordinary orders approve as they always have.
 */
import { MAX_AMOUNT } from '@commerce/contracts';
import { int, MS } from './settingTypes.js';

export const RISK_SETTINGS = {
  RISK_AMOUNT_LIMIT: int(0, MAX_AMOUNT, 0, 'risk rule: an order total above this (minor units) scores 60; 0 = off'),
  RISK_FIRST_ORDER_LIMIT: int(
    0,
    MAX_AMOUNT,
    0,
    "risk rule: a customer's first order above this total (minor units) scores 50; 0 = off",
  ),
  RISK_VELOCITY_WINDOW_MS: int(
    0,
    30 * MS.day,
    0,
    'risk rule: the sliding window of the velocity rule (a customer’s orders within it); 0 = off',
  ),
  RISK_VELOCITY_MAX_ORDERS: int(
    0,
    1_000_000,
    0,
    'risk rule: more orders than this per customer within the window (this one included) scores 50; 0 = no count limit',
  ),
  RISK_VELOCITY_MAX_AMOUNT: int(
    0,
    MAX_AMOUNT,
    0,
    'risk rule: more than this value (minor units) per customer within the window (this one included) scores 50; 0 = no value limit',
  ),
  RISK_MAX_PRODUCT_QUANTITY: int(0, 1000, 0, 'risk rule: more units of one product than this scores 30; 0 = off'),
  RISK_REVIEW_SCORE: int(1, 1000, 50, 'a risk score from this up holds the order `UNDER_REVIEW` for an admin'),
  RISK_REJECT_SCORE: int(1, 1000, 100, 'a risk score from this up rejects the order (like a declined payment)'),
  REVIEW_TIMEOUT_MS: int(
    1000,
    30 * MS.day,
    MS.day,
    'an order `UNDER_REVIEW` this long without a decision is rejected and its stock released',
  ),
};

/** The risk settings as the services read them. */
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

type RiskValues = { [K in keyof typeof RISK_SETTINGS]: number };

export function riskSettingsOf(v: RiskValues): RiskSettings {
  return {
    amountLimit: v.RISK_AMOUNT_LIMIT,
    firstOrderLimit: v.RISK_FIRST_ORDER_LIMIT,
    velocityWindowMs: v.RISK_VELOCITY_WINDOW_MS,
    velocityMaxOrders: v.RISK_VELOCITY_MAX_ORDERS,
    velocityMaxAmount: v.RISK_VELOCITY_MAX_AMOUNT,
    maxProductQuantity: v.RISK_MAX_PRODUCT_QUANTITY,
    reviewScore: v.RISK_REVIEW_SCORE,
    rejectScore: v.RISK_REJECT_SCORE,
  };
}
