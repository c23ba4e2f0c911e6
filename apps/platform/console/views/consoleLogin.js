// <console-login>: the sign-in form.
import { api, token } from '../api.js';
import { h } from '../dom.js';

/** Takes an admin token, checks it, keeps it in sessionStorage. */
class ConsoleLogin extends HTMLElement {
  connectedCallback() {
    const input = h('textarea', {
      name: 'token',
      required: true,
      placeholder: 'eyJhbGciOi…',
      'aria-label': 'admin token',
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      { class: 'card login' },
      h('h2', {}, 'Sign in'),
      h(
        'p',
        { class: 'muted' },
        'Paste an admin bearer token (npm start prints one as ADMIN_TOKEN; `npx commerce token --sub you --role admin` makes one). It stays in this tab only.',
      ),
      input,
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      token.set(input.value.trim());
      try {
        await api('/admin/console-config');
        error.textContent = '';
        this.dispatchEvent(new CustomEvent('signed-in', { bubbles: true }));
      } catch (err) {
        token.clear();
        error.textContent = err.status === 403 ? 'this token is not an admin token' : `sign-in failed: ${err.message}`;
      }
    });
    this.replaceChildren(form);
  }
}
customElements.define('console-login', ConsoleLogin);
