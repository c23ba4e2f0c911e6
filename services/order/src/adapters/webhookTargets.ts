/**
 * Is a webhook URL safe to call? Its shape (https unless allowed), and every address its host resolves to
 * (no loopback, private, link-local or metadata address unless allowed). Checked at registration and again at each
 * delivery, on the address actually connected to (webhookSender.ts), since DNS can change.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { addressesProblem, classifyAddress, type UnsafeRule, urlShapeProblem } from '../domain/webhooks.js';

export type Resolve = (host: string) => Promise<string[]>;

export const resolveHost: Resolve = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface TargetPolicy {
  allowInsecure: boolean;
  allowPrivateNetworks: boolean;
}

export async function targetProblem(
  raw: string,
  policy: TargetPolicy,
  resolve: Resolve = resolveHost,
): Promise<UnsafeRule | undefined> {
  const shape = urlShapeProblem(raw, policy.allowInsecure);
  if (shape) return shape;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  const literal = classifyAddress(host);
  if (literal !== undefined) return literal === 'public' || policy.allowPrivateNetworks ? undefined : literal;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return 'unresolvable-host';
  }
  const problem = addressesProblem(addresses);
  if (problem === 'unresolvable-host') return problem;
  return problem && !policy.allowPrivateNetworks ? problem : undefined;
}
