import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client.js';

/** Source id → name, for showing where identifiers, traits and events came from. */
export function useSourceNames(): (id: string | null | undefined) => string {
  const sources = useQuery({
    queryKey: ['sources', 'names'],
    queryFn: () => unwrap(api.GET('/v1/sources', { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
  const names = new Map(sources.data?.data.map((s) => [s.id, s.name]));
  return (id) => (id ? (names.get(id) ?? id) : '—');
}
