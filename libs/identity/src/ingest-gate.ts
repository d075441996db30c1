import type { NormalizedRecord } from '@plexus/profile';

/**
 * The port through which ingestion asks whether a record may be stored at all. Privacy provides it: records of
 * people who asked to be erased or not to be collected are skipped and counted as suppressed, never stored.
 * Without a provider every record may be stored.
 */
export abstract class IngestGate {
  /** The positions of `records` that must not be stored. */
  abstract refused(records: NormalizedRecord[]): Promise<Set<number>>;
}
