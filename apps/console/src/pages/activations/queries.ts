import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import type { Activation, ActivationStatus } from '../../api/views.js';

export const STATUS_COLOR: Record<ActivationStatus, string> = {
  active: 'green',
  paused: 'gray',
  stopped: 'red',
  deleting: 'orange',
  deleted: 'gray',
};

export function useActivation(id: string) {
  return useQuery({
    queryKey: ['activations', id],
    queryFn: () => unwrap(api.GET('/v1/activations/{id}', { params: { path: { id } } })),
    // Counts move while the worker delivers: poll fast while something is in flight, slowly otherwise.
    refetchInterval: (q) => (q.state.data && busy(q.state.data) ? 1000 : 2000),
  });
}

/** Whether the activation is moving on its own: a replace, a deletion, or removals in progress. */
export function busy(a: Activation): boolean {
  return a.mirrorInProgress || a.status === 'deleting' || (a.members.removing ?? 0) > 0;
}

/** Destination id → the destination, for names and connectors in lists. */
export function useDestinations() {
  return useQuery({
    queryKey: ['destinations', 'all'],
    queryFn: () => unwrap(api.GET('/v1/destinations', { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
}

/** Audience id → name (the 500 first audiences; an audience beyond shows its id). */
export function useAudienceNames(): (id: string) => string {
  const audiences = useQuery({
    queryKey: ['audiences', 'options'],
    queryFn: () => unwrap(api.GET('/v1/audiences', { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
  const names = new Map(audiences.data?.data.map((a) => [a.id, a.name]));
  return (id) => names.get(id) ?? id.slice(0, 8);
}
