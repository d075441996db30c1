import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client.js';
import type { Scope } from '../api/views.js';
import { useApiKey } from './session.js';

export type { Scope };

/** The signed-in key as the API describes it (`GET /v1/api-keys/me`): name, prefix, scopes, expiry. */
export function useCurrentKey() {
  const key = useApiKey();
  return useQuery({
    // Keyed by the key itself, so signing in with another key never reuses the previous key's scopes.
    queryKey: ['api-keys', 'me', key],
    queryFn: () => unwrap(api.GET('/v1/api-keys/me')),
    enabled: key !== null,
    staleTime: Infinity,
  });
}

/** Whether scopes grant a requirement, as the API decides it: `admin` implies every other scope. */
export function grants(scopes: readonly string[] | undefined, required: Scope): boolean {
  return scopes !== undefined && (scopes.includes('admin') || scopes.includes(required));
}

/**
 * Whether the signed-in key may do what needs `scope`. The one place the console hides or disables actions:
 * pages ask `useCan('sources:write')` and never reason about keys themselves. Until the key's scopes are
 * known, nothing is allowed (an action appears rather than disappears). The API enforces the same scopes.
 */
export function useCan(scope: Scope): boolean {
  return grants(useCurrentKey().data?.scopes, scope);
}
