// The console shell: sign-in, navigation (hash routes), one view at a time.
import { onUnauthorized, token } from './api.js';
import { h } from './dom.js';
// One custom element per file (plain ES modules, no build step): importing a view defines its element.
import './views/consoleLogin.js';
import './views/feedView.js';
import './views/orderView.js';
import './views/deadLettersView.js';
import './views/stockView.js';
import './views/healthView.js';
import './views/analyticsView.js';
import './views/projectionsView.js';
import './views/reviewQueueView.js';
import './views/webhooksView.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

function route() {
  if (!token.get()) {
    nav.hidden = true;
    main.replaceChildren(h('console-login'));
    return;
  }
  nav.hidden = false;
  const hash = location.hash.replace(/^#\/?/, '') || 'feed';
  const [view, arg] = hash.split('/');
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.view === view);
  if (view === 'orders' && arg) main.replaceChildren(h('order-view', { 'order-id': arg }));
  else if (view === 'dead-letters') main.replaceChildren(h('dead-letters-view'));
  else if (view === 'stock') main.replaceChildren(h('stock-view'));
  else if (view === 'health') main.replaceChildren(h('health-view'));
  else if (view === 'analytics') main.replaceChildren(h('analytics-view'));
  else if (view === 'projections') main.replaceChildren(h('projections-view'));
  else if (view === 'reviews') main.replaceChildren(h('review-queue-view'));
  else if (view === 'webhooks') main.replaceChildren(h('webhooks-view'));
  else main.replaceChildren(h('feed-view'));
}

window.addEventListener('hashchange', route);
document.addEventListener('signed-in', route);
onUnauthorized(() => {
  token.clear();
  route();
});
document.getElementById('logout').addEventListener('click', () => {
  token.clear();
  location.hash = '#/feed';
  route();
});
document.getElementById('find-order').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = new FormData(ev.target).get('orderId').trim();
  location.hash = `#/orders/${id}`;
});
route();
