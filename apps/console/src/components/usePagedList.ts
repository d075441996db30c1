import { useInfiniteQuery, type QueryKey } from '@tanstack/react-query';
import type { Page } from '../api/views.js';

/**
 * A server-paged list (`?limit=&after=` → `{ data, next }`): pages load on demand with `fetchNextPage`.
 * `refetchInterval` may depend on the rows loaded (poll fast only while something is moving).
 */
export function usePagedList<T>(
  key: QueryKey,
  fetchPage: (after: string | undefined) => Promise<Page<T>>,
  options: { enabled?: boolean; refetchInterval?: (rows: T[]) => number | false } = {},
) {
  const { refetchInterval } = options;
  const query = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }: { pageParam: string | undefined }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Page<T>) => last.next ?? undefined,
    enabled: options.enabled,
    refetchInterval: refetchInterval
      ? (q) => refetchInterval(q.state.data?.pages.flatMap((p) => p.data) ?? [])
      : undefined,
  });
  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];
  return { ...query, rows };
}
