// <feed-view> (#/feed): the live feed of orders.
import { streamFeed } from '../api.js';
import { h, status, when } from '../dom.js';
import { money, shortId } from '../format.js';
import './rateChart.js';

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
    // Every status of the order domain, in its order (0 for none): the server's list, not a copy of it.
    const names = Object.keys(counts);
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
      h('td', {}, when(o.updatedAt)),
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
