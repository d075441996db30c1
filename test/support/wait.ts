/**
 * Polls `probe` until it returns a truthy value (which is returned) or `timeoutMs` passes (then throws).
 * Tests wait on background work — runs, schedulers, workers in other processes — with it.
 */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
