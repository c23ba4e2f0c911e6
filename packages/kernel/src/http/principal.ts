/** Who is calling, from a verified bearer token (SPEC §4 Auth). */
export interface Principal {
  /** The customer id (or the admin's id). */
  sub: string;
  role: 'customer' | 'admin';
}

/**
 * Every route states who may call it, in `config.auth`; the HTTP bootstrap refuses to register a
 * route without it, so that no route is ever open by accident.
 * - `public`: health, metrics, docs.
 * - `signed-in`: any valid token; the handler checks ownership (someone else's resource answers 404).
 * - `admin`: `role: admin` only.
 */
export type RouteAuth = 'public' | 'signed-in' | 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

/** True if the principal may act for `customerId` (itself, or an admin). */
export function mayActFor(principal: Principal | undefined, customerId: string): boolean {
  return principal !== undefined && (principal.role === 'admin' || principal.sub === customerId);
}
