/**
 * Returns in the fault suite's mix (issue 21): some in-stock orders, once COMPLETED, get returns — a partial one (one
 * unit of the first line), or the whole order in two concurrent requests (one per line). Like the orders, a request
 * failing with a connection error or a 5xx is retried against the next order process; a 409 (a retried request whose
 * first attempt did commit) is counted, never an error. `settle` waits for every return to end (no REQUESTED left).
 */

export interface ReturnFigures {
  requested: number;
  accepted: number;
  /** 409: more than what is left (a retry whose first attempt committed), or the order not COMPLETED. */
  refused: number;
  retries: number;
  /** Orders planned for a return that did not complete before the client's deadline (no return asked). */
  notCompleted: number;
  gaveUp: number;
}

export function newReturnFigures(): ReturnFigures {
  return { requested: 0, accepted: 0, refused: 0, retries: 0, notCompleted: 0, gaveUp: 0 };
}

type Line = { productId: string; quantity: number };

/** The returns planned for the n-th order of the load (by its position in the kinds' cycle): none, one, or two. */
export function plannedReturns(n: number, items: readonly Line[]): Line[][] {
  const slot = n % 10;
  if (slot === 0) return [[{ productId: items[0]!.productId, quantity: 1 }]];
  if (slot === 4) return items.map((l) => [{ productId: l.productId, quantity: l.quantity }]);
  return [];
}

const FINAL = ['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED'];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (polling, bounded by `deadline`) for the order to be final; if COMPLETED, asks for the planned returns at once
 * (concurrently on the same order). Accepted return ids go into `accepted`.
 */
export async function returnAfterCompletion(o: {
  orderId: string;
  returns: Line[][];
  bearer: string;
  orderUrls: () => string[];
  deadline: number;
  figures: ReturnFigures;
  accepted: Map<string, string>;
}): Promise<void> {
  if (o.returns.length === 0) return;
  let status: string | undefined;
  for (let i = 0; Date.now() < o.deadline; i++) {
    const base = o.orderUrls()[i % Math.max(1, o.orderUrls().length)];
    status = base
      ? await fetch(`${base}/orders/${o.orderId}`, {
          headers: { authorization: `Bearer ${o.bearer}` },
          signal: AbortSignal.timeout(5_000),
        })
          .then(async (r) => (r.status === 200 ? ((await r.json()) as { status: string }).status : undefined))
          .catch(() => undefined)
      : undefined;
    if (status && FINAL.includes(status)) break;
    await pause(100); // the poll interval of a client waiting for its order
  }
  if (status !== 'COMPLETED') {
    o.figures.notCompleted++;
    return;
  }
  await Promise.all(o.returns.map((items) => askReturn({ ...o, items })));
}

async function askReturn(o: {
  orderId: string;
  items: Line[];
  bearer: string;
  orderUrls: () => string[];
  deadline: number;
  figures: ReturnFigures;
  accepted: Map<string, string>;
}): Promise<void> {
  o.figures.requested++;
  for (let attempt = 0; ; attempt++) {
    const base = o.orderUrls()[attempt % Math.max(1, o.orderUrls().length)];
    let status = 0;
    let text = '';
    try {
      if (!base) throw new Error('no order process running');
      const res = await fetch(`${base}/orders/${o.orderId}/returns`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: o.items, reason: 'fault suite' }),
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      text = await res.text();
    } catch {
      status = 0;
    }
    if (status === 202) {
      o.figures.accepted++;
      o.accepted.set((JSON.parse(text) as { returnId: string }).returnId, o.orderId);
      return;
    }
    if (status === 409) {
      o.figures.refused++;
      return;
    }
    if ((status >= 400 && status < 500) || Date.now() > o.deadline) {
      o.figures.gaveUp++;
      return;
    }
    o.figures.retries++;
    await pause(200 + Math.random() * 300); // client back-off between retries
  }
}

/** Returns still REQUESTED (their saga not ended) among the orders' returns: `settle` waits for none. */
export const PENDING_RETURNS_SQL = `SELECT count(*)::int AS n FROM orders o, jsonb_array_elements(o.returns) AS r
  WHERE o.order_id::text = ANY($1::text[]) AND r->>'status' = 'REQUESTED'`;
