import type { IngestService } from '@plexus/identity';

/**
 * Three records from two systems: Ann (from `crm`, with two events), Bob (from `shop`), then a `shop` record
 * holding both emails, which merges them. Afterwards: 3 records, 2 events, 2 profiles created, 1 merge, 1 live.
 */
export async function ingestTwoPeopleAndAMerge(ingest: IngestService, eventTimes: [string, string]): Promise<void> {
  await ingest.ingest(
    [
      {
        identifiers: [{ type: 'email', value: 'ann@plexus-test.io' }],
        events: [
          { id: 'e1', name: 'Page Viewed', occurredAt: eventTimes[0] },
          { id: 'e2', name: 'Order Completed', occurredAt: eventTimes[1] },
        ],
      },
    ],
    { sourceId: 'crm' },
  );
  await ingest.ingest([{ identifiers: [{ type: 'email', value: 'bob@plexus-test.io' }] }], { sourceId: 'shop' });
  await ingest.ingest(
    [
      {
        identifiers: [
          { type: 'email', value: 'ann@plexus-test.io' },
          { type: 'email', value: 'bob@plexus-test.io' },
        ],
      },
    ],
    { sourceId: 'shop' },
  );
}
