/**
 * Runs `source` ahead of its consumer, keeping up to `ahead` items ready: the next pages are fetched while the
 * hub stores the current batch, so a sync is paced by the vendor's rate limit rather than by ingestion.
 * Errors surface to the consumer in order; stopping the consumer stops the source.
 */
export async function* prefetch<T>(source: AsyncIterator<T>, ahead: number): AsyncGenerator<T> {
  const buffer: Array<IteratorResult<T> | { error: unknown }> = [];
  let itemReady: (() => void) | undefined;
  let spaceFree: (() => void) | undefined;
  let stopped = false;
  const pump = (async () => {
    try {
      for (;;) {
        while (buffer.length >= ahead && !stopped) await new Promise<void>((resolve) => (spaceFree = resolve));
        if (stopped) return;
        const result = await source.next();
        buffer.push(result);
        itemReady?.();
        if (result.done) return;
      }
    } catch (error) {
      buffer.push({ error });
      itemReady?.();
    }
  })();
  try {
    for (;;) {
      while (buffer.length === 0) await new Promise<void>((resolve) => (itemReady = resolve));
      const item = buffer.shift()!;
      spaceFree?.();
      if ('error' in item) throw item.error;
      if (item.done) return;
      yield item.value;
    }
  } finally {
    stopped = true;
    spaceFree?.();
    await pump;
    await source.return?.(undefined);
  }
}
