/**
 * Opaque page cursors (SPEC §4 `cursor` / `nextCursor`): the position of the last item of a page, base64url JSON,
 * read back only if it has the shape the route expects. A cursor this service did not issue answers 400.
 */
import { HttpProblem } from './problem.js';

export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position in `cursor`, or undefined without one. `read` returns the position when the decoded JSON has the
 * route's shape, else undefined (then 400).
 */
export function decodeCursor<T>(cursor: string | undefined, read: (decoded: unknown) => T | undefined): T | undefined {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const position = decoded === undefined ? undefined : read(decoded);
  if (position !== undefined) return position;
  throw HttpProblem.badRequest('invalid querystring: /cursor is not a cursor this service returned', [
    { field: '/cursor', message: 'expected the nextCursor of a previous page', in: 'querystring' },
  ]);
}

/** Readers for the usual positions: a string key, an integer key. */
export const cursorOf = {
  string: (d: unknown) => (typeof d === 'string' ? d : undefined),
  integer: (d: unknown) => (typeof d === 'number' && Number.isSafeInteger(d) ? d : undefined),
};

/** A page as the list routes answer it (SPEC §4): its items and the cursor of the next page, null on the last. */
export function pageAnswer<T>(page: { items: T[]; last?: unknown }): { items: T[]; nextCursor: string | null } {
  return { items: page.items, nextCursor: page.last === undefined ? null : encodeCursor(page.last) };
}
