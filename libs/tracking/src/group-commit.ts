import type { ProfileRecord } from '@plexus/sdk';

/** What the sink reports for one call (the identity `IngestService.ingest` contract, the parts used here). */
export interface SinkResult {
  profileIds: (string | null)[];
  rejected: Array<{ index: number; reason: string }>;
  /** Positions of records skipped as delivered before unchanged (they have a profile id, and were not stored). */
  unchangedAt?: number[];
}

/**
 * How a sink call's records came out: `stored`, or `unchanged` (skipped as delivered before; both have a profile
 * id). A record with neither, and not rejected, was refused by the privacy suppression list.
 */
export function sinkCounts(result: SinkResult): { stored: number; unchanged: number } {
  const unchanged = result.unchangedAt?.length ?? 0;
  return { stored: result.profileIds.filter((id) => id !== null).length - unchanged, unchanged };
}

/** Stores records of one source in one transaction; resolves only once they are durable. */
export type IngestSink<M> = (records: ProfileRecord[], meta: M) => Promise<SinkResult>;

export interface GroupCommitOptions {
  /** A group is written as soon as it holds this many records. */
  maxRecords: number;
  /** …or when its first record has waited this long (and a writer is free). */
  maxWaitMs: number;
  /** Groups written at the same time; while all writers are busy, open groups keep growing. */
  maxConcurrent: number;
}

// Six writers of a pool of ten: on a 2-core machine more concurrent transactions raised throughput (1 → 6: 1.3k → 3.3k events/s).
export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxRecords: 500, maxWaitMs: 4, maxConcurrent: 6 };

interface Submission {
  records: ProfileRecord[];
  resolve(result: SinkResult): void;
  reject(error: unknown): void;
}

interface Group<M> {
  key: string;
  meta: M;
  submissions: Submission[];
  size: number;
  openedAt: number;
  timer?: NodeJS.Timeout;
  /** Due: full, or waited maxWaitMs. */
  due: boolean;
}

/**
 * Group commit: records from concurrent requests of the same source are collected for a few milliseconds (or
 * up to `maxRecords`) and stored by one sink call — one transaction, one fsync — then every request is
 * answered with its own slice of the result. Under load the groups grow, so throughput rises instead of
 * latency. A group that fails is retried request by request, so one bad request cannot fail its neighbours.
 */
export class GroupCommitter<M> {
  private readonly open = new Map<string, Group<M>>();
  /** Due groups waiting for a free writer, oldest first. */
  private readonly queue: Group<M>[] = [];
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];
  stats = { groups: 0, records: 0 };

  constructor(
    private readonly sink: IngestSink<M>,
    private readonly options: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {}

  /** Queues records of the source `key` (stored with `meta`); resolves with their results once durable. */
  submit(key: string, meta: M, records: ProfileRecord[]): Promise<SinkResult> {
    if (records.length === 0) return Promise.resolve({ profileIds: [], rejected: [] });
    return new Promise<SinkResult>((resolve, reject) => {
      let group = this.open.get(key);
      if (!group) {
        group = { key, meta, submissions: [], size: 0, openedAt: Date.now(), due: false };
        this.open.set(key, group);
        const g = group;
        g.timer = setTimeout(() => this.markDue(g), this.options.maxWaitMs);
      }
      group.submissions.push({ records, resolve, reject });
      group.size += records.length;
      if (group.size >= this.options.maxRecords) this.markDue(group);
    });
  }

  /** Writes everything pending now and resolves when nothing is left in flight (shutdown). */
  async drain(): Promise<void> {
    for (const group of [...this.open.values()]) this.markDue(group);
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private markDue(group: Group<M>): void {
    if (group.due) return;
    group.due = true;
    clearTimeout(group.timer);
    if (this.open.get(group.key) === group) this.open.delete(group.key);
    this.queue.push(group);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.maxConcurrent && this.queue.length > 0) {
      const group = this.queue.shift()!;
      this.inFlight++;
      void this.write(group).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  private async write(group: Group<M>): Promise<void> {
    const records = group.submissions.flatMap((s) => s.records);
    this.stats.groups++;
    this.stats.records += records.length;
    try {
      const result = await this.sink(records, group.meta);
      let offset = 0;
      for (const s of group.submissions) {
        const end = offset + s.records.length;
        s.resolve({
          profileIds: result.profileIds.slice(offset, end),
          rejected: result.rejected
            .filter((r) => r.index >= offset && r.index < end)
            .map((r) => ({ ...r, index: r.index - offset })),
          ...(result.unchangedAt
            ? { unchangedAt: result.unchangedAt.filter((i) => i >= offset && i < end).map((i) => i - offset) }
            : {}),
        });
        offset = end;
      }
    } catch (error) {
      if (group.submissions.length === 1) {
        group.submissions[0].reject(error);
        return;
      }
      // Isolate the culprit: each request on its own.
      await Promise.all(
        group.submissions.map(async (s) => {
          try {
            s.resolve(await this.sink(s.records, group.meta));
          } catch (e) {
            s.reject(e);
          }
        }),
      );
    }
  }
}
