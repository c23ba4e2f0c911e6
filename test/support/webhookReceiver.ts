/**
 * A webhook receiver on loopback for the e2e tests: records every request and verifies it with the
 * `standardwebhooks` library (the reference implementation, not the platform's own code).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read payload fields directly
  payload: any;
  receivedAt: number;
  /** Secrets (by name) whose Webhook.verify accepted the request. */
  verifiedBy: string[];
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The secrets to verify the requests of a path with (name → whsec_…). */
  secrets: Map<string, Record<string, string>>;
  /** Chooses the status of each request (default 200); it may wait first. */
  respond: (r: ReceivedWebhook, previous: ReceivedWebhook[]) => number | Promise<number>;
  of(path: string): ReceivedWebhook[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received,
    secrets: new Map(),
    respond: () => 200,
    of: (path) => received.filter((r) => r.path === path),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '/';
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    const verifiedBy: string[] = [];
    for (const [name, secret] of Object.entries(receiver.secrets.get(path) ?? {})) {
      try {
        new Webhook(secret).verify(body, headers);
        verifiedBy.push(name);
      } catch {}
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {}
    const r: ReceivedWebhook = {
      path,
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      body,
      payload,
      receivedAt: Date.now(),
      verifiedBy,
      answered: 0,
    };
    const previous = received.filter((x) => x.path === path && x.id === r.id);
    received.push(r);
    r.answered = await receiver.respond(r, previous);
    res.writeHead(r.answered, { 'content-type': 'text/plain' }).end(`answer ${r.answered} to ${r.id}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
