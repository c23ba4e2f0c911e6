// <stock-view> (#/stock): products and customer balances.
import { api, inventory, payment } from '../api.js';
import { h } from '../dom.js';
import { money } from '../format.js';

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
