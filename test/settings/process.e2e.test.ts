/**
 * Settings read where the process starts (main.ts: ports, bind address, log level, the OTLP exporter, the embedded
 * secret under DATA_DIR) and by the `commerce` CLI: one `main.ts all` child process with non-default values, and the
 * effect of each observed from outside (the map of every setting to its test is ./coverage.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type PlatformProcess, runCommerce, startProcess, tempDataDir } from '../support/platform.js';
import { waitFor } from '../support/services.js';

/** A start on a busy machine (the whole suite on two cores) can take a while; the default hook timeout is 60 s. */
const START_TIMEOUT_MS = 180_000;

/** Linux answers on all of 127.0.0.0/8: a second loopback address tells a HOST binding from the default one. */
const HOST = '127.0.0.2';

/** Ports free on HOST right now (listened on, then closed). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve) => {
          const s = createServer();
          s.listen(0, HOST, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface Export {
  path: string;
  headers: IncomingHttpHeaders;
  body: { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[] };
}

describe('main.ts all with non-default settings (one process)', () => {
  const data = tempDataDir();
  const exports: Export[] = [];
  let collector: Server;
  let platform: PlatformProcess;
  let ports: number[] = [];

  beforeAll(async () => {
    // A stand-in OTLP/HTTP collector.
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        exports.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    ports = await freePorts(3);
    platform = await startProcess(
      'all',
      {
        DATA_DIR: data.dir,
        HOST,
        ORDER_PORT: String(ports[0]),
        INVENTORY_PORT: String(ports[1]),
        PAYMENT_PORT: String(ports[2]),
        LOG_LEVEL: 'debug',
        RATE_LIMIT: '2/second',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k%3D1',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'settings-e2e',
      },
      { timeoutMs: START_TIMEOUT_MS - 10_000 },
    );
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await platform?.stop();
    collector?.close();
    data.remove();
  });

  it('ORDER_PORT, INVENTORY_PORT, PAYMENT_PORT: each service answers on its port', async () => {
    expect(platform.urls).toEqual({
      order: `http://${HOST}:${ports[0]}`,
      inventory: `http://${HOST}:${ports[1]}`,
      payment: `http://${HOST}:${ports[2]}`,
    });
    for (const url of Object.values(platform.urls))
      expect((await http('GET', `${url}/health/live`, undefined)).status).toBe(200);
  });

  it('HOST: the services listen on that address only, not on the default 127.0.0.1', async () => {
    await expect(fetch(`http://127.0.0.1:${ports[0]}/health/live`)).rejects.toThrow();
    expect((await fetch(`http://${HOST}:${ports[0]}/health/live`)).status).toBe(200);
  });

  it('DATA_DIR: the PGlite databases and the generated JWT secret live there; the demo tokens are signed with it', async () => {
    const secret = readFileSync(join(data.dir, 'jwt-secret'), 'utf8').trim();
    const { payload } = await jwtVerify(platform.tokens.admin!, new TextEncoder().encode(secret));
    expect(payload).toMatchObject({ sub: 'admin', role: 'admin' });
    for (const name of ['order', 'inventory', 'payment'])
      expect(readFileSync(join(data.dir, name, 'PG_VERSION'), 'utf8')).toMatch(/\d/);
  });

  it('RATE_LIMIT=2/second: a third request of one client within the second is refused with 429', async () => {
    const url = `${platform.urls.inventory}/products/demo-widget`;
    const statuses = (await Promise.all([1, 2, 3].map(() => http('GET', url, platform.tokens.customer)))).map(
      (r) => r.status,
    );
    expect(statuses.sort()).toEqual([200, 200, 429]);
  });

  it('LOG_LEVEL=debug: debug lines are written (the default, info, writes none)', async () => {
    const order = await http('POST', `${platform.urls.order}/orders`, platform.tokens.admin, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-widget', quantity: 1, unitPrice: 1999 }],
    });
    expect(order.status).toBe(202);
    // Each message handled (the order's saga) is a debug line.
    const handled = await waitFor(
      () =>
        platform
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { level: string; msg: string })
          .find((l) => l.level === 'debug' && l.msg === 'message handled'),
      { what: 'a debug line' },
    );
    expect(handled).toBeDefined();
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _PROTOCOL, OTEL_SERVICE_NAME: spans go to <endpoint>/v1/traces as OTLP JSON, with the headers and the service name', async () => {
    await http('GET', `${platform.urls.order}/orders?customerId=demo-customer`, platform.tokens.customer);
    const first = await waitFor(() => exports[0], { timeoutMs: 30_000, what: 'an OTLP export' });
    expect(first.path).toBe('/v1/traces');
    expect(first.headers['x-api-key']).toBe('k=1');
    const names = first.body.resourceSpans.flatMap((r) =>
      r.resource.attributes.filter((a) => a.key === 'service.name').map((a) => a.value.stringValue),
    );
    expect(names).toEqual(['settings-e2e']);
  });

  it('COMMERCE_TOKEN: the CLI sends it (with no JWT_SECRET and no secret under its DATA_DIR to sign one)', {
    timeout: 120_000,
  }, async () => {
    const r = await runCommerce(['outbox', 'status', '--json', '--url', platform.urls.order!], {
      COMMERCE_TOKEN: platform.tokens.admin!,
      DATA_DIR: join(data.dir, 'nothing-here'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout).services).sort()).toEqual(['inventory', 'order', 'payment']);
  });
});
