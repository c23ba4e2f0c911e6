/**
 * One webhook attempt over node:http(s): no redirects followed, a timeout for the whole exchange, the answer read up
 * to a limit, and the address checked when the connection is made (the lookup below), so a host whose DNS changed
 * to a private address after registration is refused.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type AttemptResult, addressesProblem, UNSAFE_RULE_TEXT } from '../domain/webhooks.js';

export interface SendOptions {
  timeoutMs: number;
  bodyLimit: number;
  allowPrivateNetworks: boolean;
}

export interface SendOutcome {
  result: AttemptResult;
  latencyMs: number;
  responseBody: string | null;
}

/** dns.lookup that refuses unsafe addresses (unless allowed): the check holds for the address connected to. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      const problem = allowPrivate ? undefined : addressesProblem(addresses.map((a) => a.address));
      if (problem) return callback(new Error(`refused: ${UNSAFE_RULE_TEXT[problem]} (${problem})`));
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  }) as unknown as LookupFunction;
}

export function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  o: SendOptions,
): Promise<SendOutcome> {
  const started = performance.now();
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: AttemptResult, responseBody: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ result, latencyMs: Math.round(performance.now() - started), responseBody });
    };
    const req = request(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'commerce-webhooks/1' },
        lookup: guardedLookup(o.allowPrivateNetworks),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          const text = Buffer.concat(chunks).subarray(0, o.bodyLimit).toString('utf8');
          done({ status: res.statusCode ?? 0 }, text);
          res.destroy();
        };
        res.on('data', (c: Buffer) => {
          if (size < o.bodyLimit) chunks.push(c);
          size += c.length;
          // Enough read: the rest is not wanted.
          if (size >= o.bodyLimit) finish();
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    // The check phase comes after the poll phase: an answer that arrived while the event loop was busy (PGlite runs
    // in this process) is read before the timeout counts.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          done({ error: `timed out after ${o.timeoutMs} ms` }, null);
          req.destroy();
        }),
      o.timeoutMs,
    );
    req.on('error', (err) => done({ error: err.message || String(err) }, null));
    req.end(body);
  });
}
