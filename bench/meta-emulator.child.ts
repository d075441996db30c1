/**
 * The Meta emulator in a process of its own for `bench/activation.bench.ts`, so its parsing of 10,000-row
 * requests is not counted as the hub's CPU time. Prints `{ url }` on stdout; answers `stats` messages with the
 * members its audiences hold, how many requests it throttled and the CPU time it has used.
 */
import { startMeta } from '../test/emulators/meta/meta.emulator.js';

const meta = await startMeta({
  tokens: ['bench-token'],
  adAccounts: ['1000'],
  rateLimit: { max: Number(process.env.META_RATE ?? 10), windowMs: 1000 },
  maxRecordedRequests: 10,
});
process.on('message', (message: unknown) => {
  if (message !== 'stats') return;
  let members = 0;
  for (const audience of meta.state.audiences.values()) members += audience.members.size;
  const cpu = process.cpuUsage();
  process.send?.({
    members,
    throttled: meta.state.throttled,
    admitted: meta.state.admitted,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
});
process.on('SIGTERM', () => void meta.close().then(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ url: meta.url })}\n`);
