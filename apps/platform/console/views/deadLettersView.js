// <dead-letters-view> (#/dead-letters): dead letters of every queue.
import { api } from '../api.js';
import { h, toast, when } from '../dom.js';

/** Dead letters of every queue: list, inspect, replay, discard. */
class DeadLettersView extends HTMLElement {
  connectedCallback() {
    this.load();
  }
  async load() {
    try {
      const { queues, consumerQueues = [] } = await api('/admin/dead-letters');
      // In a distributed deployment the order service's bus only knows its own queues: the other services'
      // consumer queues (named by the server, from the contracts) are looked at by name too.
      for (const queue of consumerQueues)
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
                    h('td', {}, when(d.deadLetteredAt)),
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
