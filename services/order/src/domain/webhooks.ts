/**
 * Webhook rules with no I/O (docs/webhooks.md): which endpoint an event goes to, when a failed attempt is retried,
 * what an answer means for the delivery and its endpoint, and which URLs and addresses are safe to call. Time and
 * randomness come in as arguments.
 */

/** The event types an endpoint may filter on: every order event, or `*`. */
export const WEBHOOK_EVENT_TYPES = [
  'ORDER_CREATED',
  'ORDER_CONFIRMED',
  'ORDER_COMPLETED',
  'ORDER_CANCELLED',
  'ORDER_COMPENSATION_STARTED',
  'ORDER_PAYMENT_ROLLBACK_REQUESTED',
  'ORDER_INVENTORY_ROLLBACK_REQUESTED',
  'ORDER_COMPENSATED',
  'ORDER_COMPENSATION_FAILED',
] as const;
/** The type of the delivery `commerce webhooks test` sends (never an order event). */
export const WEBHOOK_TEST_EVENT = 'WEBHOOK_TEST';

export interface EndpointFilter {
  /** Event types, or ['*'] for every order event. */
  eventTypes: readonly string[];
  /** Only this customer's orders, when set. */
  customerId: string | null;
}

export function matchesEndpoint(
  endpoint: EndpointFilter,
  event: { eventType: string; customerId: string | undefined },
): boolean {
  const typeOk = endpoint.eventTypes.includes('*') || endpoint.eventTypes.includes(event.eventType);
  return typeOk && (endpoint.customerId === null || endpoint.customerId === event.customerId);
}

/** The event-type filter as given, or the problem with it (unknown type, empty, `*` mixed with others). */
export function eventFilterProblem(eventTypes: readonly string[]): string | undefined {
  if (eventTypes.length === 0) return 'expected at least one event type, or *';
  if (eventTypes.includes('*') && eventTypes.length > 1) return '* already means every event type';
  const unknown = eventTypes.find((t) => t !== '*' && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown) return `unknown event type ${unknown}: expected * or some of ${WEBHOOK_EVENT_TYPES.join(', ')}`;
  return undefined;
}

/**
 * Delay before the retry that follows `attemptsMade` attempts (1 after the first failure), or undefined when the
 * schedule is used up. Jitter: ±20 % of the scheduled delay, from `random` in [0, 1).
 */
export function retryDelayMs(schedule: readonly number[], attemptsMade: number, random: number): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (0.8 + 0.4 * Math.min(Math.max(random, 0), 1)));
}

/** What one attempt came back with: an HTTP status, or an error (timeout, refused connection, unsafe address). */
export type AttemptResult = { status: number } | { error: string };

export type DeliveryDecision =
  | { kind: 'succeeded' }
  | { kind: 'retry'; at: Date; delayMs: number }
  | { kind: 'failed'; reason: string };

export interface EndpointDecision {
  /** The endpoint's first failure of an unbroken run of failures (null once an attempt succeeded). */
  failingSince: Date | null;
  /** Disable the endpoint, with the reason, when set. */
  disable?: string;
}

export interface AttemptFacts {
  result: AttemptResult;
  /** Attempts made, this one included. */
  attempts: number;
  schedule: readonly number[];
  random: number;
  now: Date;
  failingSince: Date | null;
  disableAfterMs: number;
}

export const isSuccess = (r: AttemptResult): boolean => 'status' in r && r.status >= 200 && r.status < 300;

/** After an attempt: the delivery succeeds, is retried later, or fails; the endpoint may be disabled. */
export function decideAfterAttempt(f: AttemptFacts): { delivery: DeliveryDecision; endpoint: EndpointDecision } {
  if (isSuccess(f.result)) return { delivery: { kind: 'succeeded' }, endpoint: { failingSince: null } };
  const failingSince = f.failingSince ?? f.now;
  if ('status' in f.result && f.result.status === 410)
    return {
      delivery: { kind: 'failed', reason: 'the endpoint answered 410 Gone' },
      endpoint: { failingSince, disable: 'answered 410 Gone' },
    };
  const failingFor = f.now.getTime() - failingSince.getTime();
  const endpoint: EndpointDecision =
    failingFor >= f.disableAfterMs
      ? { failingSince, disable: `every attempt failed for ${Math.round(failingFor / 1000)} s` }
      : { failingSince };
  const delay = retryDelayMs(f.schedule, f.attempts, f.random);
  if (delay === undefined)
    return { delivery: { kind: 'failed', reason: `no success after ${f.attempts} attempts` }, endpoint };
  return { delivery: { kind: 'retry', delayMs: delay, at: new Date(f.now.getTime() + delay) }, endpoint };
}

/** Rules a webhook URL or its address can break; each is named in the 400 problem that refuses it. */
export type UnsafeRule =
  | 'invalid-url'
  | 'https-required'
  | 'credentials-in-url'
  | 'loopback-address'
  | 'private-address'
  | 'link-local-address'
  | 'metadata-address'
  | 'unspecified-address'
  | 'multicast-address'
  | 'unresolvable-host';

export const UNSAFE_RULE_TEXT: Record<UnsafeRule, string> = {
  'invalid-url': 'the URL must be absolute http(s)',
  'https-required': 'the URL must be https (WEBHOOK_ALLOW_INSECURE=true allows http)',
  'credentials-in-url': 'the URL must not carry a user name or password',
  'loopback-address': 'the host must not be a loopback address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)',
  'private-address': 'the host must not be a private address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)',
  'link-local-address': 'the host must not be a link-local address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)',
  'metadata-address': 'the host must not be a cloud metadata address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)',
  'unspecified-address': 'the host must not be an unspecified address (0.0.0.0, ::)',
  'multicast-address': 'the host must not be a multicast or reserved address',
  'unresolvable-host': 'the host name must resolve',
};

/** The URL's shape: absolute http(s), https unless allowed, no credentials. Undefined when fine. */
export function urlShapeProblem(raw: string, allowInsecure: boolean): UnsafeRule | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'invalid-url';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'invalid-url';
  if (u.protocol === 'http:' && !allowInsecure) return 'https-required';
  if (u.username || u.password) return 'credentials-in-url';
  return undefined;
}

function ipv4Parts(ip: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function classifyIpv4([a, b, c, d]: number[]): UnsafeRule | 'public' {
  if (a === 169 && b === 254 && c === 169 && d === 254) return 'metadata-address';
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'metadata-address'; // Alibaba Cloud
  if (a === 0) return 'unspecified-address';
  if (a === 127) return 'loopback-address';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'private-address';
  if (a === 100 && b! >= 64 && b! <= 127) return 'private-address'; // carrier-grade NAT
  if (a === 198 && (b === 18 || b === 19)) return 'private-address'; // benchmarking
  if (a === 169 && b === 254) return 'link-local-address';
  if (a! >= 224) return 'multicast-address';
  return 'public';
}

/** Expands an IPv6 text to its 8 groups, or undefined when it is not one. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip.toLowerCase().replace(/^\[|\]$/g, '');
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = ipv4Parts(v4[1]!);
    if (!p) return undefined;
    tail.push((p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!);
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 && known !== 8) return undefined;
  if (known > 8 || [...head, ...rest].some(Number.isNaN)) return undefined;
  return [...head, ...Array(8 - known).fill(0), ...rest, ...tail];
}

/** What kind of address an IP literal is: public, or the rule it breaks. Undefined when it is no IP address. */
export function classifyAddress(ip: string): UnsafeRule | 'public' | undefined {
  const v4 = ipv4Parts(ip);
  if (v4) return classifyIpv4(v4);
  const g = ipv6Groups(ip);
  if (!g) return undefined;
  const [g0, , , , g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  if (g.every((x) => x === 0)) return 'unspecified-address';
  if (g.slice(0, 7).every((x) => x === 0) && g7 === 1) return 'loopback-address';
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible: judged as the IPv4 address.
  if (g.slice(0, 5).every((x) => x === 0) && (g5 === 0xffff || g5 === 0) && g4 === 0)
    return classifyIpv4([g6 >> 8, g6 & 255, g7 >> 8, g7 & 255]);
  if (g0 === 0xfd00 && g[1] === 0x0ec2 && g7 === 0x254) return 'metadata-address'; // AWS IMDS over IPv6
  if ((g0 & 0xfe00) === 0xfc00) return 'private-address'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local-address';
  if ((g0 & 0xff00) === 0xff00) return 'multicast-address';
  return 'public';
}

/** The first unsafe rule among a host's addresses (all must be public), or undefined when every one is. */
export function addressesProblem(addresses: readonly string[]): UnsafeRule | undefined {
  if (addresses.length === 0) return 'unresolvable-host';
  for (const a of addresses) {
    const c = classifyAddress(a);
    if (c === undefined) return 'unresolvable-host';
    if (c !== 'public') return c;
  }
  return undefined;
}
