// <health-view> (#/health): outbox and order partitions.
import { api } from '../api.js';
import { h } from '../dom.js';

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
