// <order-view> (#/orders/<id>): one order's saga, items, stock effect and payment.
import { api, inventory, payment } from '../api.js';
import { h, status, when } from '../dom.js';
import { gap, money, signed } from '../format.js';

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
      // The final statuses come from the order domain (console-config), not from a copy here.
      if (!config.finalStatuses.includes(order.status) || timeline.events.length < 2)
        this.timer = setTimeout(() => this.load(), 1000);
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
        when(e.occurredAt),
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
          h('dd', { id: 'order-dates' }, when(order.createdAt), ' / ', when(order.updatedAt)),
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
