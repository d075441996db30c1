import { Injectable, Optional } from '@nestjs/common';
import { IdentityMetrics } from '@plexus/identity';
import { ConnectorContexts } from '@plexus/connectors';
import { InvalidInputError, UnauthenticatedError } from '@plexus/errors';
import type { ProfileRecord } from '@plexus/sdk';
import { storableCopy, storableText, unstorableStringProblem } from '@plexus/profile';
import { TrackingQuarantineRepository, type WriteKeyOwner } from '@plexus/storage';
import {
  messageProblem,
  normalizeSegmentMessage,
  type SegmentCallType,
  type SegmentNormalizeOptions,
} from './segment.normalizer.js';
import { sinkCounts } from './group-commit.js';
import { TrackingIngestor } from './tracking-ingestor.service.js';
import { WriteKeyService } from './write-key.service.js';

/** A message that was not stored, and why; `index` is its position in the batch (0 for a single call). */
export interface RejectedMessage {
  index: number;
  messageId?: string;
  reason: string;
}

/**
 * Segment's answer, plus how many messages of a batch were refused and why (absent when all were stored). Refused
 * messages are kept in the source's quarantine with their reason.
 */
export interface TrackingResponse {
  success: true;
  refused?: number;
  rejected?: RejectedMessage[];
}

/** The write key of a request: HTTP Basic user name (what Segment libraries send) or `writeKey` in the body. */
export function writeKeyFrom(authorization: string | undefined, body: unknown): string | undefined {
  if (authorization) {
    const [scheme, value] = authorization.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
      if (user) return user;
    }
  }
  const fromBody = (body as { writeKey?: unknown } | null | undefined)?.writeKey;
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Segment HTTP Tracking API: authenticate, validate, normalise, store with group commit, answer. */
@Injectable()
export class TrackingService {
  constructor(
    private readonly writeKeys: WriteKeyService,
    private readonly ingestor: TrackingIngestor,
    private readonly contexts: ConnectorContexts,
    private readonly quarantine: TrackingQuarantineRepository,
    @Optional() private readonly metrics?: IdentityMetrics,
  ) {}

  async authenticate(authorization: string | undefined, body: unknown): Promise<WriteKeyOwner> {
    const key = writeKeyFrom(authorization, body);
    if (!key)
      throw new UnauthenticatedError(
        'Missing write key: send HTTP Basic auth with the write key as user name, or writeKey in the body',
      );
    const owner = await this.writeKeys.authenticate(key);
    if (!owner) throw new UnauthenticatedError('Invalid write key');
    return owner;
  }

  /**
   * Handles one call (`route` = its type) or a batch (`route` = 'batch'). Every message is checked on its own: the
   * valid ones are stored, the others refused with their reason and kept in the source's quarantine. Answers only
   * after both are written. Throws 400 when nothing valid remains, with every message's reason in `details`.
   */
  async handle(
    route: SegmentCallType | 'batch',
    body: unknown,
    authorization: string | undefined,
    receivedAt: Date,
  ): Promise<TrackingResponse> {
    const owner = await this.authenticate(authorization, body);
    if (!isObject(body)) throw new InvalidInputError('The body must be a JSON object');
    const settings = this.contexts.ingestSettings({ kind: 'source', ...owner });
    const options: SegmentNormalizeOptions = { receivedAt, keepFullIp: settings.keepFullIp === true };
    let messages: unknown[];
    if (route === 'batch') {
      if (!Array.isArray(body.batch) || body.batch.length === 0)
        throw new InvalidInputError('Invalid request: batch (must be a non-empty array of messages)', [
          { field: 'batch', problems: ['must be a non-empty array'] },
        ]);
      messages = body.batch;
      options.batch = { context: isObject(body.context) ? body.context : undefined, sentAt: body.sentAt };
    } else {
      messages = [body];
    }

    const rejected: RejectedMessage[] = [];
    const records: ProfileRecord[] = [];
    const positions: Array<{ index: number; messageId: string }> = [];
    messages.forEach((message, index) => {
      const problem = route === 'batch' ? messageProblem(message) : messageProblem({ ...body, writeKey: undefined });
      const messageId =
        isObject(message) && typeof message.messageId === 'string' && !unstorableStringProblem(message.messageId)
          ? message.messageId.slice(0, 255)
          : undefined;
      if (problem) return void rejected.push({ index, ...(messageId ? { messageId } : {}), reason: problem });
      const outcome = normalizeSegmentMessage(message, route === 'batch' ? undefined : route, options);
      if (!outcome.ok)
        return void rejected.push({
          index,
          ...(outcome.messageId ? { messageId: outcome.messageId } : {}),
          reason: outcome.reason,
        });
      records.push(outcome.record);
      positions.push({ index, messageId: outcome.messageId });
    });

    let stored = 0;
    let unchanged = 0;
    if (records.length > 0) {
      const { defaultCountry } = settings;
      // Every message is a new event (a retried one is caught by its message id): no re-ingest fingerprints.
      const result = await this.ingestor.store(
        { sourceId: owner.sourceId, fingerprints: false, ...(defaultCountry ? { defaultCountry } : {}) },
        records,
      );
      for (const r of result.rejected) {
        const at = positions[r.index];
        rejected.push({ index: at.index, messageId: at.messageId, reason: r.reason });
      }
      ({ stored, unchanged } = sinkCounts(result));
    }
    rejected.sort((a, b) => a.index - b.index);
    await this.quarantine.keep(
      owner.sourceId,
      rejected.map((r) => ({
        record: storableCopy(route === 'batch' ? messages[r.index] : { ...body, writeKey: undefined }),
        reason: storableText(r.reason),
      })),
    );
    // A message neither stored, unchanged nor refused was skipped by the privacy suppression list.
    this.metrics?.countRecords(owner, {
      read: messages.length,
      written: stored,
      unchanged,
      quarantined: rejected.length,
      suppressed: messages.length - stored - unchanged - rejected.length,
    });
    if (rejected.length === messages.length) {
      const first = rejected[0];
      const message =
        route === 'batch'
          ? `No valid message in the batch (${rejected.length} rejected; first: #${first.index} ${first.reason})`
          : `Invalid message: ${first.reason}`;
      throw new InvalidInputError(message, rejected);
    }
    return rejected.length > 0 ? { success: true, refused: rejected.length, rejected } : { success: true };
  }
}
