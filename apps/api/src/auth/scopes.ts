import { SetMetadata } from '@nestjs/common';

/** What an API key may do. `admin` implies every other scope. */
export const SCOPES = [
  'admin',
  'read',
  'sources:write',
  'audiences:write',
  'activations:write',
  'privacy',
  'pii:read',
] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (value: unknown): value is Scope => (SCOPES as readonly unknown[]).includes(value);

/**
 * What a route requires: every listed scope, or `[]` for any valid key. `'public'` needs no key at all.
 * The OpenAPI document shows it on every operation as `x-required-scope`.
 */
export type RouteScope = readonly Scope[] | 'public';

export const REQUIRED_SCOPES = 'plexus:required-scopes';
export const SCOPE_EXTENSION = 'x-required-scope';

/**
 * Declares the scopes a route (or every route of a controller) needs; a key must hold all of them.
 * `@RequireScopes()` with none opens the route to any valid key. Routes without the decorator get
 * {@link defaultScopes}: GET/HEAD need `read`, anything else `admin`.
 *
 * @example
 * ```ts
 * @Post() @RequireScopes('sources:write') create(...) {}
 * ```
 */
export const RequireScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_SCOPES, scopes);

/** The scope of a route that does not declare one: reading needs `read`, changing needs `admin`. */
export function defaultScopes(method: string): readonly Scope[] {
  return ['GET', 'HEAD'].includes(method.toUpperCase()) ? ['read'] : ['admin'];
}

/** Whether a key holding `held` may call a route requiring `required`. */
export function grants(held: readonly string[], required: readonly Scope[]): boolean {
  if (held.includes('admin')) return true;
  return required.every((scope) => held.includes(scope));
}

/** Whether `requested` is no broader than `held` (what a key may give a key it creates). */
export function isSubset(requested: readonly string[], held: readonly string[]): boolean {
  return held.includes('admin') || requested.every((scope) => held.includes(scope));
}

/** `read+pii:read`, `any key` or `public`: how the OpenAPI document and error messages name a requirement. */
export function describeScope(scope: RouteScope): string {
  if (scope === 'public') return 'public';
  return scope.length === 0 ? 'any key' : scope.join('+');
}
