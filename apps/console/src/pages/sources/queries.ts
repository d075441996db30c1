import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import type { Connection } from '../../api/views.js';

export function useCatalog() {
  return useQuery({
    queryKey: ['connectors'],
    queryFn: () => unwrap(api.GET('/v1/connectors')),
    staleTime: 60_000,
  });
}

export function useSource(id: string | undefined) {
  return useQuery({
    queryKey: ['sources', id],
    queryFn: () => unwrap(api.GET('/v1/sources/{id}', { params: { path: { id: id ?? '' } } })),
    enabled: Boolean(id),
  });
}

export function fetchSources(after?: string) {
  return unwrap(api.GET('/v1/sources', { params: { query: { limit: 50, after } } }));
}

export function fetchRuns(sourceId: string, after?: string, limit = 20) {
  return unwrap(api.GET('/v1/sources/{id}/runs', { params: { path: { id: sourceId }, query: { limit, after } } }));
}

export function scheduleText(schedule: Connection['schedule']): string {
  if (!schedule) return 'manual only';
  if ('cron' in schedule) return `cron ${schedule.cron}${schedule.tz ? ` (${schedule.tz})` : ''}`;
  return `every ${schedule.everySeconds} s`;
}
