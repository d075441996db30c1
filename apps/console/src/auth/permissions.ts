/**
 * What the signed-in key may do. The one place the console hides or disables actions: pages ask
 * `useCan('sources:write')` and never reason about keys themselves. The API does not describe a key's scopes
 * yet, so every key is an admin key until it does; then this hook reads them.
 */
export type Scope =
  | 'sources:read'
  | 'sources:write'
  | 'sources:sync'
  | 'profiles:read'
  | 'profiles:write'
  | 'identity:write'
  | 'api-keys:write';

export function useCan(_scope: Scope): boolean {
  return true;
}
