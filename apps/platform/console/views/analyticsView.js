// <analytics-view> (#/analytics): the sales analytics projection (GET /admin/analytics), drawn with uPlot and
// refreshed every second while the page is open (no reload).
import { api } from '../api.js';
import { h } from '../dom.js';
import { minorDigits, money } from '../format.js';
import uPlot from '../vendor/uPlot.esm.js';

const REFRESH_MS = 1000;
const HOURS = 24;
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];
const FINAL = ['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED'];
// The histogram's upper bounds in ms, as the projection counts them (LATENCY_BUCKETS_MS of services/order's
// application/projections.ts); -1 is "above the last".
const LATENCY_BUCKETS_MS = [100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, -1];

const css = h('link', { rel: 'stylesheet', href: '/console/vendor/uPlot.min.css' });

/** Sums rows into a Map by key. */
function sumBy(rows, key, fields) {
  const out = new Map();
  for (const r of rows) {
    const k = key(r);
    const t = out.get(k) ?? Object.fromEntries(fields.map((f) => [f, 0]));
    for (const f of fields) t[f] += r[f];
    out.set(k, t);
  }
  return out;
}

function table(id, head, rows) {
  return h(
    'table',
    { id },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((t, i) => h('th', { class: i > 0 ? 'num' : undefined }, t)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

class AnalyticsView extends HTMLElement {
  connectedCallback() {
    if (!document.head.contains(css)) document.head.append(css);
    this.charts = {};
    this.state = 'loading';
    this.tick();
  }
  disconnectedCallback() {
    clearTimeout(this.timer);
    for (const c of Object.values(this.charts)) c.destroy();
    this.charts = {};
  }
  async tick() {
    try {
      const since = new Date(Date.now() - HOURS * 3_600_000);
      since.setUTCMinutes(0, 0, 0);
      this.render(await api(`/admin/analytics?period=hour&since=${encodeURIComponent(since.toISOString())}`), since);
      this.dataset.state = 'live';
    } catch (err) {
      this.dataset.state = 'error';
      this.querySelector('.error')?.remove();
      this.prepend(h('p', { class: 'error' }, `analytics: ${err.message}`));
    }
    if (this.isConnected) this.timer = setTimeout(() => this.tick(), REFRESH_MS);
  }

  /** Builds the page once, then only updates its tables and the charts' data. */
  layout() {
    if (this.built) return;
    this.built = true;
    this.replaceChildren(
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Revenue and orders (last 24 h, per currency)'),
        h('div', { id: 'totals' }),
      ),
      h('section', { class: 'card' }, h('h2', {}, 'Revenue per hour'), h('div', { id: 'revenue-chart' })),
      h('section', { class: 'card' }, h('h2', {}, 'Orders per hour'), h('div', { id: 'orders-chart' })),
      h('section', { class: 'card' }, h('h2', {}, 'Outcomes'), h('div', { id: 'outcomes' })),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Order to final status (all hours shown)'),
        h('div', { id: 'latency-chart' }),
      ),
      h('section', { class: 'card' }, h('h2', {}, 'Top products (completed orders)'), h('div', { id: 'products' })),
      h('section', { class: 'card' }, h('h2', {}, 'Compensations'), h('div', { id: 'compensations' })),
    );
  }

  render(report, since) {
    this.layout();
    const hours = Array.from({ length: HOURS + 1 }, (_, i) => since.getTime() / 1000 + i * 3600);
    const currencies = [...new Set(report.sales.map((s) => s.currency))].sort();
    const byHour = (currency, field) =>
      hours.map((t) => {
        const row = report.sales.find(
          (s) => Date.parse(s.bucket) / 1000 === t && (!currency || s.currency === currency),
        );
        if (currency) return row ? row[field] / 10 ** minorDigits(currency) : 0;
        return report.sales.filter((s) => Date.parse(s.bucket) / 1000 === t).reduce((n, s) => n + s[field], 0);
      });

    const totals = sumBy(report.sales, (s) => s.currency, [
      'ordersPlaced',
      'amountPlaced',
      'ordersCompleted',
      'revenue',
    ]);
    this.querySelector('#totals').replaceChildren(
      table(
        'analytics-totals',
        ['currency', 'orders placed', 'amount placed', 'orders completed', 'revenue'],
        [...totals].map(([c, t]) =>
          h(
            'tr',
            { dataset: { currency: c } },
            h('td', {}, c),
            h('td', { class: 'num' }, t.ordersPlaced),
            h('td', { class: 'num' }, money(t.amountPlaced, c)),
            h('td', { class: 'num' }, t.ordersCompleted),
            h('td', { class: 'num revenue' }, money(t.revenue, c)),
          ),
        ),
      ),
    );

    this.chart(
      'revenue-chart',
      currencies.map((c, i) => ({ label: c, stroke: COLORS[i % COLORS.length], width: 2 })),
      [hours, ...currencies.map((c) => byHour(c, 'revenue'))],
      currencies.join(','),
    );
    this.chart(
      'orders-chart',
      [
        { label: 'placed', stroke: COLORS[0], width: 2 },
        { label: 'completed', stroke: COLORS[1], width: 2 },
      ],
      [hours, byHour(undefined, 'ordersPlaced'), byHour(undefined, 'ordersCompleted')],
      'orders',
    );

    const finals = FINAL.map((s) => [s, report.outcomes[s] ?? 0]);
    const all = finals.reduce((n, [, v]) => n + v, 0);
    this.querySelector('#outcomes').replaceChildren(
      table(
        'analytics-outcomes',
        ['final status', 'orders', 'share'],
        finals.map(([s, v]) =>
          h(
            'tr',
            { dataset: { status: s } },
            h('td', {}, s),
            h('td', { class: 'num' }, v),
            h('td', { class: 'num' }, all ? `${((100 * v) / all).toFixed(1)} %` : '—'),
          ),
        ),
      ),
    );

    const buckets = LATENCY_BUCKETS_MS;
    const counts = buckets.map((le) => report.latency.filter((l) => l.leMs === le).reduce((n, l) => n + l.orders, 0));
    const labels = buckets.map((le) => (le < 0 ? '> 5 min' : le >= 1000 ? `≤ ${le / 1000} s` : `≤ ${le} ms`));
    this.chart(
      'latency-chart',
      [{ label: 'orders', stroke: COLORS[3], fill: 'rgba(147,51,234,0.25)', paths: uPlot.paths.bars({ size: [0.6] }) }],
      [buckets.map((_, i) => i), counts],
      labels.join(','),
      { scales: { x: { time: false } }, axes: [{ values: (_u, ticks) => ticks.map((t) => labels[t] ?? '') }, {}] },
    );

    this.querySelector('#products').replaceChildren(
      table(
        'analytics-products',
        ['product', 'units', 'revenue'],
        report.topProducts.map((p) =>
          h(
            'tr',
            { dataset: { productId: p.productId } },
            h('td', { class: 'mono' }, `${p.productId} (${p.currency})`),
            h('td', { class: 'num' }, p.units),
            h('td', { class: 'num' }, money(p.revenue, p.currency)),
          ),
        ),
      ),
    );
    this.querySelector('#compensations').replaceChildren(
      table(
        'analytics-compensations',
        ['kind / reason', 'orders'],
        report.compensations.map((c) =>
          h('tr', {}, h('td', {}, c.reason ? `${c.kind}: ${c.reason}` : c.kind), h('td', { class: 'num' }, c.orders)),
        ),
      ),
    );
  }

  /** Creates a chart, or gives the existing one new data (a new one when its series changed). */
  chart(id, series, data, key, extra = {}) {
    const existing = this.charts[id];
    if (existing && existing.key === key) {
      existing.plot.setData(data);
      return;
    }
    existing?.plot.destroy();
    const host = this.querySelector(`#${id}`);
    host.replaceChildren();
    const plot = new uPlot(
      { width: Math.max(320, host.clientWidth || 800), height: 220, series: [{}, ...series], ...extra },
      data,
      host,
    );
    this.charts[id] = { plot, key, destroy: () => plot.destroy() };
  }
}
customElements.define('analytics-view', AnalyticsView);
