// <projections-view> (#/projections): every projection's checkpoint, lag and state, and its rebuild.
import { api } from '../api.js';
import { h, toast } from '../dom.js';

/** A running rebuild as a bar and its figures: "45%  12345/27000 events  3400 ev/s  ETA 4 s". */
function rebuildCell(r) {
  if (!r) return h('span', { class: 'muted' }, '—');
  if (r.error) return h('span', { class: 'error' }, `failed: ${r.error}`);
  const p = r.progress;
  if (!p) return h('span', {}, 'starting…');
  const share = p.total > 0 ? Math.min(1, p.handled / p.total) : 1;
  const eta = p.phase === 'swapped' ? 'swapped' : p.etaSeconds === null ? 'ETA ?' : `ETA ${p.etaSeconds} s`;
  return h(
    'span',
    { class: 'rebuild', dataset: { phase: p.phase } },
    h('progress', { max: 100, value: Math.round(share * 100) }),
    ` ${Math.round(share * 100)}%  ${p.handled}/${p.total} events  ${p.eventsPerSecond} ev/s  ${eta}`,
  );
}

function stateOf(p) {
  if (p.inline) return 'inline';
  return p.status?.state ?? 'never started';
}

/** The projections of the order service: checkpoint, lag, state, parked events; a Rebuild button each. */
class ProjectionsView extends HTMLElement {
  connectedCallback() {
    this.load();
    this.timer = setInterval(() => this.load(), 1000);
  }
  disconnectedCallback() {
    clearInterval(this.timer);
  }
  async rebuild(name) {
    try {
      await api(`/admin/projections/${encodeURIComponent(name)}/rebuild`, { method: 'POST' });
      toast(`rebuilding ${name}`);
      await this.load();
    } catch (err) {
      toast(`rebuild of ${name}: ${err.message}`);
    }
  }
  async load() {
    try {
      const { projections } = await api('/admin/projections');
      this.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Projections'),
          h(
            'p',
            { class: 'muted' },
            'A rebuild fills shadow tables from the first event while the live ones keep serving, then swaps them in ' +
              'one transaction. Inline projections are written with their events (lag 0).',
          ),
          h(
            'table',
            { id: 'projections' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'projection',
                  'state',
                  'checkpoint',
                  'handled',
                  'lag (events)',
                  'lag (s)',
                  'parked',
                  'rebuild',
                  '',
                ].map((t, i) => h('th', { class: i >= 3 && i <= 6 ? 'num' : undefined }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              projections.map((p) => {
                const s = p.status;
                const running = p.rebuild?.running === true;
                return h(
                  'tr',
                  { dataset: { projection: p.name } },
                  h('td', { class: 'mono' }, p.name, h('div', { class: 'muted' }, p.tables.join(', '))),
                  h('td', { class: 'state' }, h('span', { class: `status ${stateOf(p)}` }, stateOf(p))),
                  h('td', { class: 'mono' }, s ? `${s.position.txId}/${s.position.globalPosition}` : '—'),
                  h('td', { class: 'num' }, s?.handled ?? '—'),
                  h('td', { class: 'num lag' }, p.inline ? 0 : (s?.lagEvents ?? '—')),
                  h('td', { class: 'num' }, p.inline ? 0 : (s?.lagSeconds ?? '—')),
                  h('td', { class: `num ${s?.parked ? 'error' : ''}` }, s?.parked ?? 0),
                  h('td', { class: 'progress' }, rebuildCell(p.rebuild)),
                  h(
                    'td',
                    {},
                    h(
                      'button',
                      { type: 'button', disabled: running, onclick: () => this.rebuild(p.name) },
                      running ? 'Rebuilding…' : 'Rebuild',
                    ),
                  ),
                );
              }),
            ),
          ),
        ),
      );
    } catch (err) {
      this.replaceChildren(h('p', { class: 'error' }, `projections: ${err.message}`));
    }
  }
}
customElements.define('projections-view', ProjectionsView);
