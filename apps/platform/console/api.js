// Talks to the order service's admin routes. The admin token lives in sessionStorage (this tab only) and goes in
// the Authorization header of every call, including the live feed: fetch streaming, never a token in a URL.

const KEY = 'commerce.console.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Listeners told when the token is refused (the app shows the login form again). */
const unauthorizedListeners = new Set();
export const onUnauthorized = (fn) => unauthorizedListeners.add(fn);

function headers(extra = {}) {
  const t = token.get();
  return { accept: 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}), ...extra };
}

export async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) for (const fn of unauthorizedListeners) fn();
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Inventory and payment are read through the order service's proxy: one origin, no CORS. */
export const inventory = (path) => api(`/admin/proxy/inventory/${path}`);
export const payment = (path) => api(`/admin/proxy/payment/${path}`);

/**
 * Reads the Server-Sent Events stream of /admin/feed with fetch (so the Authorization header goes along) and
 * calls onEvent(name, data) for each event; reconnects with backoff until `signal` aborts.
 */
export async function streamFeed(onEvent, onState, signal) {
  let delay = 500;
  while (!signal.aborted) {
    try {
      const res = await fetch('/admin/feed', { headers: headers({ accept: 'text/event-stream' }), signal });
      if (res.status === 401) {
        for (const fn of unauthorizedListeners) fn();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`feed answered ${res.status}`);
      onState('live');
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) name = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length) onEvent(name, JSON.parse(data.join('\n')));
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      onState(`reconnecting (${err.message})`);
    }
    if (signal.aborted) return;
    onState('reconnecting');
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(10_000, delay * 2);
  }
}
