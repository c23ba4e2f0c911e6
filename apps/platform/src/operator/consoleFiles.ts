import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { HttpProblem } from '@commerce/kernel';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The console's static files (plain ES modules, no build step); shipped next to dist/ in the image. */
export const CONSOLE_DIR = resolve(import.meta.dirname, '../../console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
};
/**
 * Same-origin only, no inline script, no framing. Unlike the API's default (helmet) it has no
 * upgrade-insecure-requests: the console is also opened over plain http on 127.0.0.1 (npm start).
 */
const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const SAFE_PATH = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*\.[a-z]{2,4}$/;

/** The charting library of the analytics page (uPlot, a dependency of this package), served as it ships. */
const require = createRequire(import.meta.url);
const VENDOR: Record<string, { file: string; type: string }> = {
  'uPlot.esm.js': { file: require.resolve('uplot/dist/uPlot.esm.js'), type: TYPES['.js'] as string },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: TYPES['.css'] as string },
};

/** Static files at /console: public (the page holds no data, every data call is an admin route). */
export async function registerConsoleFiles(app: FastifyInstance): Promise<void> {
  const statics = { config: { auth: 'public' as const, rateLimit: false as const }, schema: { hide: true } };
  app.get('/console', statics, async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/', statics, async (_req, reply) => sendStatic(reply, 'index.html'));
  for (const [name, v] of Object.entries(VENDOR))
    app.get(`/console/vendor/${name}`, statics, async (_req, reply) =>
      reply
        .type(v.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CONSOLE_CSP)
        .send(await readFile(v.file)),
    );
  app.get('/console/*', statics, async (req, reply) => sendStatic(reply, (req.params as { '*': string })['*']));
}

/** Serves one file of the console folder; anything outside it, hidden or of an unknown type is a 404. */
async function sendStatic(reply: FastifyReply, relative: string): Promise<FastifyReply> {
  const type = TYPES[extname(relative)];
  if (!SAFE_PATH.test(relative) || !type) throw HttpProblem.notFound('no such console file');
  const file = normalize(join(CONSOLE_DIR, relative));
  if (!file.startsWith(CONSOLE_DIR + sep)) throw HttpProblem.notFound('no such console file');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    throw HttpProblem.notFound('no such console file');
  }
  return reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', CONSOLE_CSP).send(body);
}
