// <review-queue-view> (#/reviews): orders held UNDER_REVIEW by the risk step, with their reasons (docs/risk.md).
import { api } from '../api.js';
import { h, toast, when } from '../dom.js';
import { money } from '../format.js';

/** The review queue: each held order with its score, the rules' reasons and deadline; approve or reject it. */
class ReviewQueueView extends HTMLElement {
  connectedCallback() {
    this.load();
  }
  async load() {
    try {
      const { items } = await api('/admin/reviews');
      this.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Risk review queue ', h('span', { class: 'muted depth' }, `(${items.length})`)),
          h('button', { type: 'button', onclick: () => this.load() }, 'Refresh'),
        ),
        items.length === 0
          ? h('p', { class: 'muted', dataset: { empty: 'true' } }, 'No order is waiting for a review.')
          : h(
              'section',
              { class: 'card' },
              h(
                'table',
                {},
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['order', 'customer', 'total', 'score', 'reasons', 'held since', 'rejected at', ''].map((t) =>
                      h('th', {}, t),
                    ),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  items.map((r) => this.row(r)),
                ),
              ),
            ),
      );
      this.dataset.state = 'loaded';
    } catch (err) {
      this.replaceChildren(h('p', { class: 'error' }, `review queue: ${err.message}`));
    }
  }
  row(r) {
    return h(
      'tr',
      { class: 'review', dataset: { orderId: r.orderId } },
      h('td', { class: 'mono' }, h('a', { href: `#/orders/${r.orderId}` }, r.orderId)),
      h('td', {}, r.customerId),
      h('td', { class: 'num' }, money(r.totalAmount, r.currency)),
      h('td', { class: 'num score' }, r.score),
      h(
        'td',
        { class: 'reasons' },
        h(
          'ul',
          {},
          r.reasons.map((x) => h('li', { class: 'reason' }, x)),
        ),
      ),
      h('td', {}, when(r.createdAt)),
      h('td', {}, when(r.reviewDueAt)),
      h(
        'td',
        {},
        h(
          'button',
          { type: 'button', class: 'approve primary', onclick: () => this.decide(r.orderId, 'approve') },
          'Approve',
        ),
        ' ',
        h(
          'button',
          { type: 'button', class: 'reject danger', onclick: () => this.decide(r.orderId, 'reject') },
          'Reject',
        ),
      ),
    );
  }
  async decide(orderId, decision) {
    if (decision === 'reject' && !confirm(`Reject order ${orderId}? It is cancelled and its stock released.`)) return;
    try {
      const r = await api(`/admin/reviews/${encodeURIComponent(orderId)}/${decision}`, { method: 'POST' });
      toast(`${decision === 'approve' ? 'approved' : 'rejected'} ${orderId}: now ${r.status}`);
    } catch (err) {
      toast(`${decision} failed: ${err.message}`);
    }
    await this.load();
  }
}
customElements.define('review-queue-view', ReviewQueueView);
