import 'reflect-metadata';
import { checkNodeRuntime } from '@plexus/config';
import { runDemo } from './demo.js';

/**
 * `npm run demo`: the hub end to end on the embedded defaults against local emulators, then left running to
 * explore until Ctrl-C. `npm run demo -- --once` prints the report and exits (non-zero if anything in it failed).
 */
async function main(): Promise<void> {
  // Said once, before the progress starts, instead of a dependency's notice in the middle of it.
  const runtime = checkNodeRuntime();
  if (runtime) process.stderr.write(`${runtime}\n\n`);
  const args = process.argv.slice(2);
  const once = args.includes('--once');
  const peopleArg = args.indexOf('--people');
  const people = peopleArg >= 0 ? Number(args[peopleArg + 1]) : undefined;
  const demo = await runDemo({ people, port: Number(process.env.PORT ?? 3000) });
  const problems = demo.report.problems;
  if (once) {
    await demo.close();
    process.exit(problems.length > 0 ? 1 : 0);
  }
  process.stdout.write(
    [
      '',
      `Plexus is running at ${demo.url}`,
      // The key rides in the URL fragment, which the browser never sends; the console moves it to the tab's session.
      `  console       ${demo.url}/console/#key=${encodeURIComponent(demo.apiKey)}  (signs you in)`,
      `  API docs      ${demo.url}/docs`,
      `  queues        ${demo.url}/queues  (admin key as the Basic password)`,
      `  profiles      curl -H 'authorization: Bearer ${demo.apiKey}' '${demo.url}/v1/profiles/export'`,
      `  sources       curl -H 'authorization: Bearer ${demo.apiKey}' ${demo.url}/v1/sources`,
      `  emulators     HubSpot ${demo.emulators.hubspot.url} · Shopify ${demo.emulators.shopify.url} · S3 ${demo.emulators.s3.url}`,
      `                Meta ${demo.emulators.meta.url} · Google ${demo.emulators.google.url} · The Trade Desk ${demo.emulators.ttd.url}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // A missing Redis says what to do; anything else gets its stack.
  const text =
    error instanceof Error
      ? error.name === 'RedisUnreachableError'
        ? error.message
        : (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`demo failed: ${text}\n`);
  process.exit(1);
});
