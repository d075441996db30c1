import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@plexus/errors';
import { normalizeIdentifier } from '@plexus/profile';
import { QueueService } from '@plexus/queue';
import { isIdentifierType, IDENTIFIER_TYPES } from '@plexus/sdk';
import {
  PrivacyRequestRepository,
  type PrivacyRequestRow,
  type PrivacyRequestStatus,
  type PrivacyRequestType,
} from '@plexus/storage';
import { IdentifierHasher } from './identifier-hasher.js';
import { newSteps, type PrivacyStep } from './privacy-steps.js';

export const PRIVACY_REQUEST_TYPES: readonly PrivacyRequestType[] = ['delete', 'suppress', 'unsuppress', 'export'];

export interface PrivacyRequestInput {
  type: string;
  identifier: { type: string; value: unknown; country?: string };
}

/** A request as the API shows it. The identifier's value is shown only while the request runs. */
export interface PrivacyRequestView {
  id: string;
  type: PrivacyRequestType;
  status: PrivacyRequestStatus;
  identifier: { type: string; value?: string };
  profileId: string | null;
  steps: PrivacyStep[];
  /** The step the request waits on, and on what, while it is not complete. */
  waitingOn?: { step: string; on: string[]; detail?: string };
  result: unknown;
  note: string | null;
  attempts: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** The BullMQ job id of a request's job (BullMQ refuses `:` in custom ids). */
export const requestJobId = (requestId: string): string => `privacy-${requestId}`;

/** Files privacy requests, answers their state; the steps run in {@link PrivacyRunner}. */
@Injectable()
export class PrivacyRequestService {
  constructor(
    private readonly requests: PrivacyRequestRepository,
    private readonly hasher: IdentifierHasher,
    private readonly queues: QueueService,
  ) {}

  /**
   * Validates and normalises the identifier as ingestion does, then files the request — or, when the same request
   * for the same person is still running, answers that one (`duplicate: true`).
   */
  async create(input: PrivacyRequestInput): Promise<{ request: PrivacyRequestView; duplicate: boolean }> {
    if (!(PRIVACY_REQUEST_TYPES as readonly string[]).includes(input.type))
      throw InvalidInputError.field('type', `must be one of ${PRIVACY_REQUEST_TYPES.join(', ')}`);
    const { type: idType, value, country } = input.identifier;
    if (!isIdentifierType(idType))
      throw InvalidInputError.field('identifier.type', `must be one of ${IDENTIFIER_TYPES.join(', ')}`);
    const normalized = normalizeIdentifier({ type: idType, value: value as string }, { country });
    if (!normalized.ok)
      throw InvalidInputError.field('identifier.value', `is not a usable ${idType} (${normalized.reason})`);
    const { identifier } = normalized;
    const { row, created } = await this.requests.createOrFindActive({
      id: randomUUID(),
      type: input.type as PrivacyRequestType,
      identifierType: identifier.type,
      identifierValue: identifier.value,
      identifierHash: this.hasher.hash(identifier.type, identifier.value),
      steps: newSteps(input.type as PrivacyRequestType),
    });
    await this.enqueue(row.id);
    return { request: toView(row), duplicate: !created };
  }

  /** Makes sure the request has a job (a no-op while one is waiting, delayed or running). */
  async enqueue(requestId: string): Promise<boolean> {
    return this.queues.ensureJob('privacy.request', { requestId }, requestJobId(requestId));
  }

  async get(id: string): Promise<PrivacyRequestView> {
    const row = await this.requests.find(id);
    if (!row) throw new NotFoundError(`No privacy request ${id}`);
    return toView(row);
  }

  async list(
    limit: number,
    before?: { createdAt: Date; id: string },
    status?: PrivacyRequestStatus,
  ): Promise<PrivacyRequestView[]> {
    return (await this.requests.page(limit, before, status)).map(toView);
  }

  /** The export document of a completed export request. */
  async exportDocument(id: string): Promise<unknown> {
    const row = await this.requests.find(id);
    if (!row || row.type !== 'export') throw new NotFoundError(`No export request ${id}`);
    if (row.status !== 'completed') throw new NotFoundError(`Export ${id} is not ready (${row.status})`);
    const result = row.result as { document?: unknown } | null;
    if (!result?.document) throw new NotFoundError(`The document of export ${id} was removed (expired or erased)`);
    return result.document;
  }
}

export function toView(row: PrivacyRequestRow): PrivacyRequestView {
  const steps = row.steps as PrivacyStep[];
  const blocking = steps.find((s) => s.status === 'waiting' || s.status === 'failed');
  const result = row.type === 'export' ? exportSummary(row) : row.result;
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    identifier: { type: row.identifierType, ...(row.identifierValue !== null ? { value: row.identifierValue } : {}) },
    profileId: row.profileId,
    steps,
    ...(blocking && row.status !== 'completed'
      ? { waitingOn: { step: blocking.name, on: blocking.waitingOn ?? [], detail: blocking.detail } }
      : {}),
    result,
    note: row.note,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
  };
}

/** An export's result as listed: where to download it, not the document itself. */
function exportSummary(row: PrivacyRequestRow): unknown {
  const result = row.result as { document?: unknown; bytes?: number; expired?: boolean; erased?: boolean } | null;
  if (!result) return null;
  if (result.document) return { download: `/v1/privacy/requests/${row.id}/export`, bytes: result.bytes ?? null };
  return { download: null, removed: result.expired ? 'expired' : result.erased ? 'erased' : 'removed' };
}
