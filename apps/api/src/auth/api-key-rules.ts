import type { ApiKeyRecord } from '@plexus/storage';
import { describeScope, isSubset, type Scope } from './scopes.js';

export interface KeyRequest {
  scopes: Scope[];
  expiresAt: Date | null;
}

/**
 * Why `creator` may not mint a key with `request`, or undefined when it may: a key never gives more than it
 * holds — no scope it lacks, and no life beyond its own expiry.
 */
export function mintProblem(
  creator: Pick<ApiKeyRecord, 'scopes' | 'expiresAt'>,
  request: KeyRequest,
): { field: 'scopes' | 'expiresAt'; problem: string } | undefined {
  if (request.scopes.length === 0) return { field: 'scopes', problem: 'a key needs at least one scope' };
  const extra = request.scopes.filter((scope) => !isSubset([scope], creator.scopes));
  if (extra.length > 0)
    return {
      field: 'scopes',
      problem: `this key cannot grant ${describeScope(extra)}: it holds only ${describeScope(creator.scopes as Scope[])}`,
    };
  if (creator.expiresAt) {
    const expiry = creator.expiresAt.toISOString();
    if (request.expiresAt === null)
      return { field: 'expiresAt', problem: `this key expires at ${expiry}, so the new key must expire too` };
    if (request.expiresAt > creator.expiresAt)
      return { field: 'expiresAt', problem: `must not be later than this key's own expiry, ${expiry}` };
  }
  return undefined;
}
