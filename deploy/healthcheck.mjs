#!/usr/bin/env node
/**
 * Container health probe: GET /health/ready on the port of each service this container runs; exit 0 only
 * if all answer 200. Needs nothing but node (no curl in the image).
 *
 * Which service: the first argument, else HEALTHCHECK_SERVICE, else the last word of PID 1's command line
 * (`tini -- node apps/platform/dist/main.js order`), so one image-level HEALTHCHECK fits every service.
 * Ports come from ORDER_PORT / INVENTORY_PORT / PAYMENT_PORT (defaults 3000, 3001, 3002) like the launcher.
 */
import { readFileSync } from 'node:fs';

const DEFAULT_PORTS = { order: 3000, inventory: 3001, payment: 3002 };
const SERVICES = Object.keys(DEFAULT_PORTS);

function serviceFromPid1() {
  try {
    const words = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
    return words.at(-1);
  } catch {
    return undefined;
  }
}

function portOf(service) {
  const raw = process.env[`${service.toUpperCase()}_PORT`];
  return raw ? Number(raw) : DEFAULT_PORTS[service];
}

async function ready(service) {
  const url = `http://127.0.0.1:${portOf(service)}/health/ready`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) console.error(`${service}: ${url} answered ${res.status}: ${await res.text()}`);
    return res.status === 200;
  } catch (err) {
    console.error(`${service}: ${url} unreachable: ${err.cause?.code ?? err.message}`);
    return false;
  }
}

const which = process.argv[2] || process.env.HEALTHCHECK_SERVICE || serviceFromPid1() || 'all';
const targets = which === 'all' ? SERVICES : [which];
if (!targets.every((s) => SERVICES.includes(s))) {
  console.error(`healthcheck: unknown service ${JSON.stringify(which)} (expected order, inventory, payment or all)`);
  process.exit(2);
}
const results = await Promise.all(targets.map(ready));
process.exit(results.every(Boolean) ? 0 : 1);
