import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import type { AudienceOption } from './RuleBuilder.js';

/** Audiences by name, for the builder's "in another audience" condition and the overlap picker. */
export function useAudienceOptions(exclude?: string): AudienceOption[] {
  const all = useQuery({
    queryKey: ['audiences', 'options'],
    queryFn: () => unwrap(api.GET('/v1/audiences', { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
  return (all.data?.data ?? []).filter((a) => a.id !== exclude).map((a) => ({ value: a.id, label: a.name }));
}

export function useAudience(id: string | undefined) {
  return useQuery({
    queryKey: ['audiences', id],
    queryFn: () => unwrap(api.GET('/v1/audiences/{id}', { params: { path: { id: id ?? '' } } })),
    enabled: Boolean(id),
  });
}
