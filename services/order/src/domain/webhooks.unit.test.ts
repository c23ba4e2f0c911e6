import { describe, expect, it } from 'vitest';
import {
  addressesProblem,
  classifyAddress,
  decideAfterAttempt,
  eventFilterProblem,
  matchesEndpoint,
  retryDelayMs,
  urlShapeProblem,
} from './webhooks.js';

describe('which endpoint an event goes to', () => {
  it.each([
    [['*'], null, 'ORDER_CREATED', 'c1', true],
    [['ORDER_COMPLETED', 'ORDER_CANCELLED'], null, 'ORDER_COMPLETED', 'c1', true],
    [['ORDER_COMPLETED', 'ORDER_CANCELLED'], null, 'ORDER_CREATED', 'c1', false],
    [['*'], 'c1', 'ORDER_CREATED', 'c1', true],
    [['*'], 'c1', 'ORDER_CREATED', 'c2', false],
    [['*'], 'c1', 'ORDER_CREATED', undefined, false],
    [['ORDER_CANCELLED'], 'c2', 'ORDER_CANCELLED', 'c2', true],
  ] as const)('types %j customer %s: %s of %s → %s', (eventTypes, customerId, eventType, of, expected) => {
    expect(matchesEndpoint({ eventTypes, customerId }, { eventType, customerId: of })).toBe(expected);
  });

  it.each([
    [['*'], undefined],
    [['ORDER_COMPLETED'], undefined],
    [[], 'expected at least one event type, or *'],
    [['*', 'ORDER_CREATED'], '* already means every event type'],
    [['PAYMENT_APPROVED'], 'unknown event type PAYMENT_APPROVED'],
  ] as const)('filter %j → %s', (types, problem) => {
    const p = eventFilterProblem(types);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(problem);
  });
});

describe('retry schedule with jitter', () => {
  const schedule = [5000, 30_000, 120_000];
  it.each([
    [1, 0, 4000],
    [1, 0.5, 5000],
    [1, 0.999999, 6000],
    [2, 0.5, 30_000],
    [3, 0, 96_000],
    [4, 0.5, undefined],
  ] as const)('after attempt %i with random %f → %s ms', (attempts, random, expected) => {
    expect(retryDelayMs(schedule, attempts, random)).toBe(expected);
  });
});

describe('what an answer means', () => {
  const now = new Date('2026-01-10T00:00:00Z');
  const base = {
    attempts: 1,
    schedule: [1000, 2000],
    random: 0.5,
    now,
    failingSince: null,
    disableAfterMs: 5 * 86_400_000,
  };
  it.each([
    [{ status: 200 }, 'succeeded', undefined],
    [{ status: 204 }, 'succeeded', undefined],
    [{ status: 500 }, 'retry', undefined],
    [{ status: 302 }, 'retry', undefined],
    [{ status: 404 }, 'retry', undefined],
    [{ error: 'timed out after 10000 ms' }, 'retry', undefined],
    [{ status: 410 }, 'failed', 'answered 410 Gone'],
  ] as const)('%j → %s, disable %s', (result, kind, disable) => {
    const d = decideAfterAttempt({ ...base, result });
    expect(d.delivery.kind).toBe(kind);
    expect(d.endpoint.disable).toBe(disable);
  });

  it('retries at now + the jittered delay, and fails after the last scheduled retry', () => {
    const first = decideAfterAttempt({ ...base, result: { status: 500 } });
    expect(first.delivery).toEqual({ kind: 'retry', delayMs: 1000, at: new Date(now.getTime() + 1000) });
    expect(first.endpoint.failingSince).toEqual(now);
    const last = decideAfterAttempt({ ...base, attempts: 3, result: { status: 500 } });
    expect(last.delivery).toEqual({ kind: 'failed', reason: 'no success after 3 attempts' });
  });

  it('a success ends the run of failures; failing for the set time disables the endpoint', () => {
    const since = new Date(now.getTime() - 5 * 86_400_000);
    expect(decideAfterAttempt({ ...base, failingSince: since, result: { status: 200 } }).endpoint).toEqual({
      failingSince: null,
    });
    const d = decideAfterAttempt({ ...base, failingSince: since, result: { status: 503 } });
    expect(d.endpoint.disable).toMatch(/every attempt failed for 432000 s/);
    const young = new Date(now.getTime() - 86_400_000);
    expect(decideAfterAttempt({ ...base, failingSince: young, result: { status: 503 } }).endpoint).toEqual({
      failingSince: young,
    });
  });
});

describe('URL and address safety', () => {
  it.each([
    ['https://hooks.example.com/x', false, undefined],
    ['http://hooks.example.com/x', false, 'https-required'],
    ['http://hooks.example.com/x', true, undefined],
    ['ftp://hooks.example.com/x', true, 'invalid-url'],
    ['not a url', true, 'invalid-url'],
    ['https://user:pw@hooks.example.com/', false, 'credentials-in-url'],
  ] as const)('%s (insecure allowed: %s) → %s', (url, insecure, rule) => {
    expect(urlShapeProblem(url, insecure)).toBe(rule);
  });

  it.each([
    ['127.0.0.1', 'loopback-address'],
    ['127.5.6.7', 'loopback-address'],
    ['10.1.2.3', 'private-address'],
    ['172.16.0.1', 'private-address'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private-address'],
    ['100.64.0.1', 'private-address'],
    ['169.254.169.254', 'metadata-address'],
    ['169.254.1.1', 'link-local-address'],
    ['0.0.0.0', 'unspecified-address'],
    ['224.0.0.1', 'multicast-address'],
    ['8.8.8.8', 'public'],
    ['::1', 'loopback-address'],
    ['::', 'unspecified-address'],
    ['::ffff:127.0.0.1', 'loopback-address'],
    ['::ffff:10.0.0.1', 'private-address'],
    ['fd12:3456::1', 'private-address'],
    ['fe80::1', 'link-local-address'],
    ['fd00:ec2::254', 'metadata-address'],
    ['2606:4700::1111', 'public'],
    ['example.com', undefined],
    ['1.2.3', undefined],
  ] as const)('%s → %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it('a host is as unsafe as the worst of its addresses', () => {
    expect(addressesProblem(['8.8.8.8', '10.0.0.1'])).toBe('private-address');
    expect(addressesProblem(['8.8.8.8', '2606:4700::1111'])).toBeUndefined();
    expect(addressesProblem([])).toBe('unresolvable-host');
  });
});
