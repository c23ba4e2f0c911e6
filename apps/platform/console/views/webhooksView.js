// <webhooks-view> (#/webhooks): webhook endpoints, the delivery log of one, and redrive.
import { api } from '../api.js';
import { h, toast, when } from '../dom.js';

const status = (s) =>
  h('span', { class: `status ${s === 'succeeded' ? 'COMPLETED' : s === 'failed' ? 'CANCELLED' : 'PENDING'}` }, s);

/** Endpoints (URL, filters, state) and, for the one picked, its deliveries with every attempt; failed ones can be redriven. */
class WebhooksView extends HTMLElement {
  connectedCallback() {
    this.selected = undefined;
    this.load();
  }
  async load() {
    try {
      const { items } = await api('/admin/webhooks');
      if (!this.selected && items.length) this.selected = items[0].endpointId;
      const log = this.selected
        ? (await api(`/admin/webhooks/deliveries?endpointId=${encodeURIComponent(this.selected)}&limit=100`)).items
        : [];
      this.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Webhook endpoints'),
          h('button', { type: 'button', class: 'refresh', onclick: () => this.load() }, 'Refresh'),
          items.length === 0
            ? h('p', { class: 'muted' }, 'No webhook endpoints (commerce webhooks add URL).')
            : h(
                'table',
                { id: 'webhook-endpoints' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['url', 'events', 'customer', 'description', 'state', ''].map((t) => h('th', {}, t)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  items.map((e) =>
                    h(
                      'tr',
                      {
                        class: `webhook-endpoint${e.endpointId === this.selected ? ' selected' : ''}`,
                        dataset: { endpointId: e.endpointId, enabled: String(e.enabled) },
                      },
                      h('td', { class: 'mono' }, e.url),
                      h('td', {}, e.eventTypes.join(', ')),
                      h('td', {}, e.customerId ?? 'any'),
                      h('td', {}, e.description),
                      h('td', {}, e.enabled ? 'enabled' : `disabled: ${e.disabledReason ?? ''}`),
                      h(
                        'td',
                        {},
                        h(
                          'button',
                          { type: 'button', class: 'show-log', onclick: () => this.pick(e.endpointId) },
                          'Delivery log',
                        ),
                        ' ',
                        h(
                          'button',
                          { type: 'button', class: 'toggle', onclick: () => this.toggle(e) },
                          e.enabled ? 'Disable' : 'Enable',
                        ),
                      ),
                    ),
                  ),
                ),
              ),
        ),
        this.selected ? this.logCard(log) : '',
      );
    } catch (err) {
      this.replaceChildren(h('p', { class: 'error' }, `webhooks: ${err.message}`));
    }
  }
  logCard(log) {
    return h(
      'section',
      { class: 'card', id: 'webhook-log', dataset: { endpointId: this.selected } },
      h('h2', {}, 'Delivery log'),
      h(
        'button',
        { type: 'button', class: 'redrive-all', onclick: () => this.redriveAll() },
        'Redrive failed (last 24 h)',
      ),
      log.length === 0
        ? h('p', { class: 'muted' }, 'No deliveries yet.')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['#', 'event', 'order', 'status', 'attempts', ''].map((t) => h('th', {}, t)),
              ),
            ),
            h(
              'tbody',
              {},
              log.map((d) => [
                h(
                  'tr',
                  {
                    class: 'webhook-delivery',
                    dataset: { deliveryId: d.deliveryId, status: d.status, eventId: d.eventId },
                  },
                  h('td', { class: 'num' }, d.deliveryId),
                  h('td', {}, d.eventType),
                  h('td', { class: 'mono' }, d.orderId ? h('a', { href: `#/orders/${d.orderId}` }, d.orderId) : '—'),
                  h('td', {}, status(d.status)),
                  h('td', { class: 'num' }, d.attempts),
                  h(
                    'td',
                    {},
                    d.status === 'pending'
                      ? ''
                      : h(
                          'button',
                          { type: 'button', class: 'redrive primary', onclick: () => this.redrive(d.deliveryId) },
                          'Redrive',
                        ),
                  ),
                ),
                h(
                  'tr',
                  { class: 'attempts' },
                  h(
                    'td',
                    { colspan: 6 },
                    h(
                      'ol',
                      {},
                      d.log.map((a) =>
                        h(
                          'li',
                          { class: 'attempt' },
                          when(a.attemptedAt),
                          ` ${a.statusCode ?? '—'} · ${a.latencyMs} ms`,
                          a.error ? ` · ${a.error}` : '',
                          a.responseBody ? h('code', {}, ` ${a.responseBody}`) : '',
                        ),
                      ),
                    ),
                  ),
                ),
              ]),
            ),
          ),
    );
  }
  pick(endpointId) {
    this.selected = endpointId;
    this.load();
  }
  async toggle(e) {
    try {
      await api(`/admin/webhooks/${encodeURIComponent(e.endpointId)}/${e.enabled ? 'disable' : 'enable'}`, {
        method: 'POST',
      });
      toast(`${e.enabled ? 'disabled' : 'enabled'} ${e.url}`);
    } catch (err) {
      toast(err.message);
    }
    await this.load();
  }
  async redrive(deliveryId) {
    try {
      await api(`/admin/webhooks/deliveries/${deliveryId}/redeliver`, { method: 'POST' });
      toast(`delivery #${deliveryId} redriven`);
    } catch (err) {
      toast(`redrive failed: ${err.message}`);
    }
    await this.load();
  }
  async redriveAll() {
    try {
      const since = new Date(Date.now() - 86_400_000).toISOString();
      const r = await api(`/admin/webhooks/${encodeURIComponent(this.selected)}/redeliver`, {
        method: 'POST',
        body: { since },
      });
      toast(`${r.redelivered} deliveries redriven`);
    } catch (err) {
      toast(`redrive failed: ${err.message}`);
    }
    await this.load();
  }
}
customElements.define('webhooks-view', WebhooksView);
