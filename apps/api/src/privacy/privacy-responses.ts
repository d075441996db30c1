import { SCHEDULE } from '../connections/connection-responses.js';
import {
  anyJson,
  array,
  boolean,
  dateTime,
  integer,
  nullable,
  object,
  oneOfStrings,
  record,
  string,
} from '../openapi/response-schema.js';

const REQUEST_TYPES = ['delete', 'suppress', 'unsuppress', 'export'] as const;
const REQUEST_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed'] as const;

export const FILED_REQUEST = object({
  id: string(),
  status: string('queued, or the state of the running request it duplicates'),
  duplicate: boolean('the same request for the same person was still running: this is that one'),
});

const STEP = object(
  {
    name: oneOfStrings([
      'resolve',
      'suppress',
      'erase',
      'remove-from-destinations',
      'delete-at-destinations',
      'erase-ledger',
      'verify',
      'freeze',
      'unsuppress',
      'export',
    ]),
    status: oneOfStrings(['pending', 'done', 'skipped', 'waiting', 'failed']),
    attempts: integer(),
  },
  {
    detail: string('what the step did, or why it waits or failed'),
    waitingOn: array(string(), 'what a waiting step waits on'),
    updatedAt: string('ISO date-time'),
  },
);

export const PRIVACY_REQUEST = object(
  {
    id: string(),
    type: oneOfStrings(REQUEST_TYPES),
    status: oneOfStrings(REQUEST_STATUSES),
    identifier: object(
      { type: string() },
      { value: string('while the request runs only; "***" for keys without pii:read') },
    ),
    profileId: nullable(string()),
    steps: array(STEP, 'in the order they run'),
    result: anyJson('what the request produced'),
    note: nullable(string('e.g. nothing held')),
    attempts: integer(),
    nextAttemptAt: nullable(dateTime()),
    createdAt: dateTime(),
    updatedAt: dateTime(),
    completedAt: nullable(dateTime()),
  },
  {
    waitingOn: object(
      { step: string(), on: array(string()) },
      { detail: string() },
      'while the request is not complete: the step it waits on, and on what',
    ),
  },
);

export const EXPORT_DOCUMENT = anyJson('everything held about the person (docs/PRIVACY.md)');

export const CONSENT = object({
  profileId: string(),
  consent: record(object({ granted: boolean(), sourceId: string(), observedAt: dateTime() }), 'per purpose'),
  revoked: array(string(), 'purposes this change revoked'),
  removal: object({
    requested: boolean('the person was taken out of the destinations that hold them'),
    destinations: array(string()),
  }),
});

export const RETENTION = object({
  policy: object({
    eventsDays: nullable(integer('events older than this are deleted; null keeps them')),
    quarantineDays: nullable(integer('quarantined records older than this are deleted; null keeps them')),
    exportsDays: integer('export documents are deleted this many days after they were produced'),
    deleteEmptyProfiles: boolean('profiles left without any identifier are erased'),
    batchSize: integer('rows each sweep statement reads at most'),
    schedule: SCHEDULE,
  }),
  identifierTtlDays: record(integer(), 'days an identifier may stay unseen, per type (identity rules)'),
  updatedAt: nullable(dateTime()),
});

export const RETENTION_RUN = object({
  id: integer(),
  trigger: string(),
  status: oneOfStrings(['queued', 'running', 'succeeded', 'failed']),
  startedAt: dateTime(),
  finishedAt: nullable(dateTime()),
  removed: record(integer(), 'rows removed per kind'),
  error: nullable(string()),
});

export const RETENTION_RUN_STARTED = object({ id: integer(), status: string() });
