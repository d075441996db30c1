import type { Reflector } from '@nestjs/core';
import type { Environment } from '@plexus/config';
import { IS_PUBLIC, type PublicWhen } from './public.decorator.js';
import { defaultScopes, describeScope, REQUIRED_SCOPES, type Scope } from './scopes.js';

/** What a route needs, read from its decorators exactly as the guard reads them. */
export interface RouteRequirement {
  /** Open without a key: always, or when the environment says so. */
  open: PublicWhen | undefined;
  /** The scopes a key needs when the route is not open. */
  scopes: readonly Scope[];
}

export function routeRequirement(
  reflector: Reflector,
  handler: object,
  controller: object,
  method: string,
): RouteRequirement {
  const targets = [handler, controller] as Array<() => void>;
  return {
    open: reflector.getAllAndOverride<PublicWhen | undefined>(IS_PUBLIC, targets),
    scopes: reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? defaultScopes(method),
  };
}

export function isOpen(requirement: RouteRequirement, env: Environment): boolean {
  const { open } = requirement;
  return open === true || (open !== undefined && open.when(env));
}

/** `public`, `read`, `read+pii:read`, `any key`, or `read (public when METRICS_PUBLIC=true)`. */
export function describeRequirement(requirement: RouteRequirement): string {
  if (requirement.open === true) return 'public';
  const scopes = describeScope(requirement.scopes);
  return requirement.open ? `${scopes} (public when ${requirement.open.description})` : scopes;
}
