import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ProfileRecord } from '@plexus/sdk';
import { IngestService, type IngestMeta } from '@plexus/identity';
import { DEFAULT_GROUP_COMMIT, GroupCommitter, type SinkResult } from './group-commit.js';

/** Real-time records (tracking API, webhooks) into the profile store, with group commit per source. */
@Injectable()
export class TrackingIngestor implements OnApplicationShutdown {
  readonly committer: GroupCommitter<IngestMeta>;

  constructor(ingest: IngestService) {
    this.committer = new GroupCommitter<IngestMeta>(
      (records, meta) => ingest.ingest(records, meta),
      DEFAULT_GROUP_COMMIT,
    );
  }

  /**
   * Resolves once the records are stored (committed in PostgreSQL), with per-record results. Records are grouped
   * per source and per use of the re-ingest fingerprints (a group is stored with the meta of its first records).
   */
  store(meta: IngestMeta, records: ProfileRecord[]): Promise<SinkResult> {
    const key = meta.fingerprints === false ? `${meta.sourceId}\u0000without fingerprints` : meta.sourceId;
    return this.committer.submit(key, meta, records);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.committer.drain();
  }
}
