// The console's views, as plain custom elements (light DOM, so the stylesheet applies).
import { api, inventory, payment, streamFeed, token } from './api.js';
import { gap, h, money, s, shortId, status, time, toast } from './dom.js';

const FINAL = new Set(['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED']);
const STATUSES = [
  'PENDING',
  'CONFIRMED',
  'COMPLETED',
  'CANCELLED',
  'COMPENSATION_PENDING',
  'COMPENSATED',
  'COMPENSATION_FAILED',
];

/** Orders created per second over the last minute, as SVG bars. */
class RateChart extends HTMLElement {
  set series(values) {
    this._series = values;
    this.render();
  }
  connectedCallback() {
    this.render();
  }
  render() {
    const values = this._series ?? new Array(60).fill(0);
    const w = 600;
    const hgt = 80;
    const max = Math.max(1, ...values);
    const bw = w / values.length;
    const svg = s('svg', {
      viewBox: `0 0 ${w} ${hgt + 12}`,
      role: 'img',
      'aria-label': 'orders per second, last minute',
    });
    values.forEach((v, i) => {
      const bh = (v / max) * hgt;
      const bar = s('rect', { x: i * bw + 1, y: hgt - bh, width: Math.max(1, bw - 2), height: bh });
      bar.append(s('title', {}, `${v} orders/s, ${values.length - 1 - i} s ago`));
      svg.append(bar);
    });
    svg.append(s('text', { x: 0, y: hgt + 11 }, '-60 s'), s('text', { x: w - 24, y: hgt + 11 }, 'now'));
    svg.append(s('text', { x: 2, y: 10 }, `max ${max}/s`));
    this.replaceChildren(svg);
  }
}
customElements.define('rate-chart', RateChart);

/** Live feed: counts per status, rate chart, and the latest orders updating in place. */
class FeedView extends HTMLElement {
  connectedCallback() {
    this.rows = new Map();
    this.state = h('span', { class: 'muted feed-state' }, 'connecting…');
    this.counts = h('div', { class: 'counts' });
    this.chart = h('rate-chart');
    this.tbody = h('tbody');
    this.replaceChildren(
      h(
        'div',
        { class: 'grid' },
        h('section', { class: 'card' }, h('h2', {}, 'Orders by status ', this.state), this.counts),
        h('section', { class: 'card' }, h('h2', {}, 'Orders per second (last minute)'), this.chart),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Latest orders'),
        h(
          'table',
          { id: 'feed' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'order'),
              h('th', {}, 'customer'),
              h('th', {}, 'status'),
              h('th', { class: 'num' }, 'total'),
              h('th', {}, 'updated'),
            ),
          ),
          this.tbody,
        ),
      ),
    );
    this.abort = new AbortController();
    streamFeed(
      (name, data) => this.onEvent(name, data),
      (state) => {
        this.state.textContent = state === 'live' ? '● live' : state;
        this.dataset.state = state === 'live' ? 'live' : 'down';
      },
      this.abort.signal,
    );
  }
  disconnectedCallback() {
    this.abort?.abort();
  }
  onEvent(name, data) {
    if (name === 'snapshot') {
      this.tbody.replaceChildren();
      this.rows.clear();
      for (const o of [...data.orders].reverse()) this.upsert(o, false);
      this.stats(data);
    } else if (name === 'orders') {
      for (const o of data) this.upsert(o, true);
    } else if (name === 'stats') this.stats(data);
  }
  stats({ counts, rate }) {
    const names = [...new Set([...STATUSES, ...Object.keys(counts)])];
    this.counts.replaceChildren(
      ...names.map((n) => h('div', { class: 'count', dataset: { status: n } }, h('b', {}, counts[n] ?? 0), status(n))),
    );
    this.chart.series = rate;
  }
  upsert(o, flash) {
    const prev = this.rows.get(o.orderId);
    if (prev && Number(prev.dataset.version) >= o.version) return;
    const row = h(
      'tr',
      { dataset: { orderId: o.orderId, version: o.version, status: o.status }, class: flash ? 'flash' : undefined },
      h('td', {}, h('a', { href: `#/orders/${o.orderId}`, class: 'mono', title: o.orderId }, shortId(o.orderId))),
      h('td', {}, o.customerId),
      h('td', { class: 'order-status' }, status(o.status)),
      h('td', { class: 'num' }, money(o.totalAmount, o.currency)),
      h('td', {}, time(o.updatedAt)),
    );
    if (prev) prev.replaceWith(row);
    else this.tbody.prepend(row);
    this.rows.set(o.orderId, row);
    while (this.tbody.children.length > 200) {
      const last = this.tbody.lastElementChild;
      this.rows.delete(last.dataset.orderId);
      last.remove();
    }
  }
}
customElements.define('feed-view', FeedView);

const signed = (n) => (typeof n === 'number' ? (n > 0 ? `+${n}` : String(n)) : '');

function eventClass(type) {
  if (/COMPENSAT|ROLLBACK|RELEASED|REFUNDED|CANCELLED/.test(type)) return 'compensation';
  if (/FAILED|DECLINED/.test(type)) return 'failure';
  if (type === 'ORDER_COMPLETED') return 'final';
  return '';
}

/** One order: its saga as a timeline, items, stock effect, payment, trace id. Refreshes until final. */
class OrderView extends HTMLElement {
  connectedCallback() {
    this.orderId = this.getAttribute('order-id');
    this.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
    this.load();
  }
  disconnectedCallback() {
    clearTimeout(this.timer);
    this.gone = true;
  }
  async load() {
    try {
      const [timeline, config] = await Promise.all([
        api(`/admin/console/orders/${this.orderId}`),
        api('/admin/console-config'),
      ]);
      const [order, reservation, movements, pay] = await Promise.all([
        api(`/orders/${this.orderId}`),
        inventory(`admin/reservations/${this.orderId}`).catch((e) => ({ error: e.message })),
        inventory(`admin/stock-movements?orderId=${this.orderId}&limit=100`).catch((e) => ({ error: e.message })),
        payment(`payments/${this.orderId}`).catch((e) => ({ error: e.message })),
      ]);
      if (this.gone) return;
      this.render(order, timeline, reservation, movements, pay, config);
      if (!FINAL.has(order.status) || timeline.events.length < 2) this.timer = setTimeout(() => this.load(), 1000);
      else if (this.refreshes === undefined) {
        // Late acknowledgements may still arrive just after the final status: one more look.
        this.refreshes = 1;
        this.timer = setTimeout(() => this.load(), 1500);
      }
    } catch (err) {
      if (this.gone) return;
      this.replaceChildren(h('p', { class: 'error' }, `order ${this.orderId}: ${err.message}`));
    }
  }
  render(order, timeline, reservation, movements, pay, config) {
    let prev;
    const events = timeline.events.map((e) => {
      const at = Date.parse(e.occurredAt);
      const li = h(
        'li',
        { class: eventClass(e.type), dataset: { type: e.type, source: e.source } },
        h('span', {}, time(e.occurredAt)),
        h('span', { class: 'gap' }, gap(prev === undefined ? undefined : at - prev)),
        h(
          'div',
          {},
          h('span', { class: 'type' }, e.type),
          h('span', { class: 'src' }, e.source),
          Object.keys(e.data ?? {}).length ? h('div', { class: 'mono muted' }, JSON.stringify(e.data)) : null,
        ),
      );
      prev = at;
      return li;
    });
    const total = timeline.events.length
      ? Date.parse(timeline.events.at(-1).occurredAt) - Date.parse(timeline.events[0].occurredAt)
      : 0;
    this.replaceChildren(
      h(
        'section',
        { class: 'card' },
        h(
          'h2',
          {},
          'Order ',
          h('span', { class: 'mono' }, order.orderId),
          ' ',
          h('span', { id: 'order-status' }, status(order.status)),
        ),
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, 'customer'),
          h('dd', {}, order.customerId),
          h('dt', {}, 'total'),
          h('dd', {}, money(order.totalAmount, order.currency)),
          h('dt', {}, 'inventory / payment'),
          h('dd', {}, status(order.inventory?.status), ' ', status(order.payment?.status)),
          h('dt', {}, 'reasons'),
          h('dd', {}, (order.reasons ?? []).join(', ') || '—'),
          h('dt', {}, 'created / updated'),
          h('dd', {}, `${time(order.createdAt)} / ${time(order.updatedAt)}`),
          h('dt', {}, 'trace id'),
          h('dd', { class: 'mono', id: 'trace-id' }, timeline.traceId ?? '—'),
        ),
      ),
      h(
        'div',
        { class: 'grid' },
        h(
          'section',
          { class: 'card' },
          h('h2', {}, `Saga timeline (${timeline.events.length} events, ${gap(total).slice(1) || '0 ms'})`),
          h('ol', { class: 'timeline', id: 'timeline' }, events),
        ),
        h(
          'div',
          {},
          h(
            'section',
            { class: 'card' },
            h('h2', {}, 'Items'),
            h(
              'table',
              {},
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', {}, 'product'),
                  h('th', { class: 'num' }, 'qty'),
                  h('th', { class: 'num' }, 'unit price'),
                ),
              ),
              h(
                'tbody',
                {},
                order.items.map((i) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, i.productId),
                    h('td', { class: 'num' }, i.quantity),
                    h('td', { class: 'num' }, money(i.unitPrice, order.currency)),
                  ),
                ),
              ),
            ),
          ),
          h(
            'section',
            { class: 'card', id: 'stock-effect' },
            h('h2', {}, 'Stock effect'),
            reservation.error
              ? h('p', { class: 'muted' }, `reservation: ${reservation.error}`)
              : h(
                  'p',
                  { class: 'reservation' },
                  'reservation ',
                  status(reservation.status),
                  ' ',
                  (reservation.lines ?? []).map((l) => `${l.quantity} × ${l.productId}`).join(', '),
                  reservation.rollbackMarker ? ' (rollback marker: undone before it was made)' : '',
                ),
            movements.error
              ? h('p', { class: 'muted' }, `movements: ${movements.error}`)
              : h(
                  'table',
                  {},
                  h(
                    'thead',
                    {},
                    h(
                      'tr',
                      {},
                      ['product', 'kind', 'available', 'reserved', 'sold'].map((t, i) =>
                        h('th', { class: i > 1 ? 'num' : undefined }, t),
                      ),
                    ),
                  ),
                  h(
                    'tbody',
                    {},
                    (movements.items ?? []).map((m) =>
                      h(
                        'tr',
                        { class: 'movement', dataset: { kind: m.kind } },
                        h('td', {}, m.productId),
                        h('td', {}, m.kind),
                        h('td', { class: 'num' }, signed(m.deltaAvailable)),
                        h('td', { class: 'num' }, signed(m.deltaReserved)),
                        h('td', { class: 'num' }, signed(m.deltaSold)),
                      ),
                    ),
                  ),
                ),
          ),
          h(
            'section',
            { class: 'card', id: 'payment' },
            h('h2', {}, 'Payment'),
            pay.error
              ? h('p', { class: 'muted' }, pay.error)
              : h(
                  'dl',
                  { class: 'kv' },
                  h('dt', {}, 'status'),
                  h('dd', {}, status(pay.status)),
                  h('dt', {}, 'amount'),
                  h('dd', {}, money(pay.amount, pay.currency)),
                  pay.reason ? [h('dt', {}, 'reason'), h('dd', {}, pay.reason)] : null,
                ),
            h('p', { class: 'muted' }, `inventory ${config.inventoryUrl ?? '?'} · payment ${config.paymentUrl ?? '?'}`),
          ),
        ),
      ),
    );
  }
}
customElements.define('order-view', OrderView);

const OTHER_SERVICE_QUEUES = ['inventory.order_events', 'payment.order_events'];

/** Dead letters of every queue: list, inspect, replay, discard. */
class DeadLettersView extends HTMLElement {
  connectedCallback() {
    this.load();
  }
  async load() {
    try {
      const { queues } = await api('/admin/dead-letters');
      // In a distributed deployment the order service's bus only knows its own queues: the other services'
      // consumer queues are looked at by name too (their letters are read straight from the broker).
      for (const queue of OTHER_SERVICE_QUEUES)
        if (!queues.some((q) => q.queue === queue)) queues.push({ queue, depth: undefined });
      const sections = [];
      for (const q of queues) {
        // The depth may lag (broker statistics): always look at the letters themselves.
        const { items } = await api(`/admin/dead-letters/${encodeURIComponent(q.queue)}`).catch(() => ({ items: [] }));
        if (q.depth === undefined) {
          if (items.length === 0) continue;
          q.depth = items.length;
        }
        sections.push(this.queueCard(q, items));
      }
      this.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Dead-letter queues'),
          h('button', { type: 'button', onclick: () => this.load() }, 'Refresh'),
        ),
        ...(sections.length ? sections : [h('p', { class: 'muted' }, 'No dead-letter queues.')]),
      );
    } catch (err) {
      this.replaceChildren(h('p', { class: 'error' }, `dead letters: ${err.message}`));
    }
  }
  queueCard(q, items) {
    return h(
      'section',
      { class: 'card', dataset: { queue: q.queue } },
      h('h2', {}, `${q.queue}.dlq `, h('span', { class: 'muted depth' }, `(${q.depth})`)),
      items.length === 0
        ? h('p', { class: 'muted' }, 'empty')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'id'),
                h('th', {}, 'reason'),
                h('th', {}, 'attempts'),
                h('th', {}, 'routing key'),
                h('th', {}, 'when'),
                h('th', {}),
              ),
            ),
            h(
              'tbody',
              {},
              items.map((d) => {
                const detail = h('pre', { hidden: true }, '');
                return [
                  h(
                    'tr',
                    { class: 'dead-letter', dataset: { id: d.id } },
                    h('td', { class: 'mono' }, d.id),
                    h('td', { class: 'reason' }, d.reason),
                    h('td', { class: 'num' }, d.attempts),
                    h('td', { class: 'mono' }, `${d.exchange ?? ''} ${d.routingKey ?? ''}`),
                    h('td', {}, time(d.deadLetteredAt)),
                    h(
                      'td',
                      {},
                      h(
                        'button',
                        { type: 'button', class: 'inspect', onclick: () => this.inspect(q.queue, d.id, detail) },
                        'Inspect',
                      ),
                      ' ',
                      h(
                        'button',
                        { type: 'button', class: 'replay primary', onclick: () => this.act('replay', q.queue, d.id) },
                        'Replay',
                      ),
                      ' ',
                      h(
                        'button',
                        { type: 'button', class: 'discard danger', onclick: () => this.act('discard', q.queue, d.id) },
                        'Discard',
                      ),
                    ),
                  ),
                  h('tr', {}, h('td', { colspan: 6 }, detail)),
                ];
              }),
            ),
          ),
    );
  }
  async inspect(queue, id, el) {
    try {
      const letter = await api(`/admin/dead-letters/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`);
      let body = letter.body;
      try {
        body = JSON.stringify(JSON.parse(letter.body), null, 2);
      } catch {}
      el.textContent = `${letter.reason}\n\n${body}`;
      el.hidden = !el.hidden;
    } catch (err) {
      toast(err.message);
    }
  }
  async act(what, queue, id) {
    if (what === 'discard' && !confirm(`Discard dead letter ${id} of ${queue}? It is deleted for good.`)) return;
    try {
      const base = `/admin/dead-letters/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`;
      if (what === 'replay') await api(`${base}/replay`, { method: 'POST' });
      else await api(base, { method: 'DELETE' });
      toast(`${what === 'replay' ? 'replayed' : 'discarded'} ${id}`);
    } catch (err) {
      toast(`${what} failed: ${err.message}`);
    }
    await this.load();
  }
}
customElements.define('dead-letters-view', DeadLettersView);

/** Products with their stock, and the balances of the customers seen in orders. */
class StockView extends HTMLElement {
  connectedCallback() {
    this.load();
  }
  async load() {
    try {
      const [products, { customerIds }] = await Promise.all([
        inventory('products?limit=100'),
        api('/admin/console/customers'),
      ]);
      const accounts = await Promise.all(
        customerIds.map((id) =>
          payment(`customers/${encodeURIComponent(id)}`).catch((e) => ({ customerId: id, error: e.message })),
        ),
      );
      this.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Products'),
          h(
            'table',
            { id: 'products' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['product', 'name', 'price', 'available', 'reserved', 'sold'].map((t, i) =>
                  h('th', { class: i > 1 ? 'num' : undefined }, t),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              products.items.map((p) =>
                h(
                  'tr',
                  { dataset: { productId: p.productId } },
                  h('td', { class: 'mono' }, p.productId),
                  h('td', {}, p.name),
                  h('td', { class: 'num' }, money(p.unitPrice, p.currency)),
                  h('td', { class: 'num available' }, p.available),
                  h('td', { class: 'num' }, p.reserved),
                  h('td', { class: 'num' }, p.sold),
                ),
              ),
            ),
          ),
        ),
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Customer balances (customers seen in orders)'),
          h(
            'table',
            { id: 'balances' },
            h('thead', {}, h('tr', {}, h('th', {}, 'customer'), h('th', { class: 'num' }, 'balance'))),
            h(
              'tbody',
              {},
              accounts.map((a) =>
                h(
                  'tr',
                  { dataset: { customerId: a.customerId } },
                  h('td', {}, a.customerId),
                  h('td', { class: 'num' }, a.error ? a.error : money(a.balance, a.currency)),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      this.replaceChildren(h('p', { class: 'error' }, `stock and balances: ${err.message}`));
    }
  }
}
customElements.define('stock-view', StockView);

/** Outbox per service and partition ownership per worker. */
class HealthView extends HTMLElement {
  connectedCallback() {
    this.load();
    this.timer = setInterval(() => this.load(), 2000);
  }
  disconnectedCallback() {
    clearInterval(this.timer);
  }
  async load() {
    try {
      const [outbox, parts] = await Promise.all([api('/admin/outbox'), api('/admin/console/partitions')]);
      const byOwner = new Map();
      for (const l of parts.leases) {
        const k = l.live ? (l.owner ?? 'unowned') : 'expired';
        byOwner.set(k, [...(byOwner.get(k) ?? []), l.partition]);
      }
      this.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Outbox'),
          h(
            'table',
            { id: 'outbox' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['service', 'unpublished', 'oldest (ms)', 'failing', 'published (kept)'].map((t, i) =>
                  h('th', { class: i ? 'num' : undefined }, t),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              Object.entries(outbox.services).map(([name, o]) =>
                h(
                  'tr',
                  { dataset: { service: name } },
                  h('td', {}, name),
                  h('td', { class: 'num' }, o.unpublished),
                  h('td', { class: 'num' }, o.oldestUnpublishedAgeMs),
                  h('td', { class: `num ${o.failing ? 'error' : ''}` }, o.failing),
                  h('td', { class: 'num' }, o.published),
                ),
              ),
            ),
          ),
        ),
        h(
          'section',
          { class: 'card' },
          h(
            'h2',
            {},
            `Order partitions (${parts.count ?? '?'}, ${parts.mode === 'static' ? 'all in this process' : 'leases'})`,
          ),
          parts.mode === 'static'
            ? h('p', { class: 'muted' }, 'Embedded default: one process consumes every partition.')
            : [
                h(
                  'table',
                  { id: 'partitions' },
                  h('thead', {}, h('tr', {}, h('th', {}, 'worker'), h('th', {}, 'partitions'))),
                  h(
                    'tbody',
                    {},
                    [...byOwner].map(([owner, ps]) =>
                      h('tr', {}, h('td', { class: 'mono' }, owner), h('td', {}, ps.join(', '))),
                    ),
                  ),
                ),
                h(
                  'p',
                  { class: 'muted' },
                  `members: ${parts.members.map((m) => `${m.instanceId} (heartbeat ${m.ageMs} ms ago)`).join('; ') || 'none'}`,
                ),
              ],
        ),
      );
    } catch (err) {
      this.replaceChildren(h('p', { class: 'error' }, `outbox and partitions: ${err.message}`));
    }
  }
}
customElements.define('health-view', HealthView);

/** Takes an admin token, checks it, keeps it in sessionStorage. */
class ConsoleLogin extends HTMLElement {
  connectedCallback() {
    const input = h('textarea', {
      name: 'token',
      required: true,
      placeholder: 'eyJhbGciOi…',
      'aria-label': 'admin token',
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      { class: 'card login' },
      h('h2', {}, 'Sign in'),
      h(
        'p',
        { class: 'muted' },
        'Paste an admin bearer token (npm start prints one as ADMIN_TOKEN; `npx commerce token --sub you --role admin` makes one). It stays in this tab only.',
      ),
      input,
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      token.set(input.value.trim());
      try {
        await api('/admin/console-config');
        error.textContent = '';
        this.dispatchEvent(new CustomEvent('signed-in', { bubbles: true }));
      } catch (err) {
        token.clear();
        error.textContent = err.status === 403 ? 'this token is not an admin token' : `sign-in failed: ${err.message}`;
      }
    });
    this.replaceChildren(form);
  }
}
customElements.define('console-login', ConsoleLogin);
