import { OPEN_BATCH_STATES } from '@plexus/storage';
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
  stored,
  string,
} from '../openapi/response-schema.js';

const MEMBER_STATES = ['held', 'removing', 'removed', 'not_sendable', 'invalid', 'failed'] as const;

export const ACTIVATION = object({
  id: string(),
  audienceId: string(),
  destinationId: string(),
  connector: nullable(string('the destination connector id; null once the destination is gone')),
  mode: oneOfStrings(['upsert', 'mirror']),
  identifiers: array(string(), 'identifier types handed to the destination (empty: every type it accepts)'),
  schedule: nullable(stored(SCHEDULE)),
  externalId: nullable(string("the platform's audience id")),
  status: oneOfStrings(['active', 'paused', 'stopped', 'deleting', 'deleted']),
  error: nullable(
    object({ type: string('config, …'), message: string('what to fix'), at: string('when it happened (ISO)') }),
  ),
  cursor: integer('the last audience change delivered'),
  members: record(integer(), `ledger rows by state (${MEMBER_STATES.join(', ')}): held is what the platform holds`),
  mirrorInProgress: boolean('a mirror is replacing the platform list'),
  createdAt: dateTime(),
  updatedAt: dateTime(),
});

const COUNTERS = {
  changes: integer('audience changes read'),
  adds: integer('members sent as additions'),
  removes: integer('members sent as removals'),
  accepted: integer('items the platform accepted'),
  invalid: integer('items the platform refused'),
  failed: integer('items that went to the dead letters'),
  notSendable: integer('members that could not be sent'),
  notSendableReasons: record(integer(), 'not sendable members by reason'),
};

export const ACTIVATION_RUN = object({
  id: integer(),
  activationId: string(),
  trigger: string(),
  status: oneOfStrings(['running', 'succeeded', 'partial', 'failed']),
  error: nullable(string()),
  startedAt: dateTime(),
  finishedAt: nullable(dateTime()),
  ...COUNTERS,
});

const REQUEST_REPORT = object(
  { operation: oneOfStrings(['add', 'remove', 'replace']), items: integer('items the request carried') },
  {
    received: integer("the platform's count of items received"),
    invalid: integer("the platform's count of invalid items"),
    invalidSamples: array(object({ value: string() }, { reason: string() }), 'refused values as sent, with the reason'),
    requestId: string("the platform's id of the request"),
  },
);

const BATCH = object({
  id: string(),
  kind: string('write, replace, …'),
  state: string('planned, confirmed, retrying, blocked or dead'),
  adds: integer(),
  removes: integer(),
  accepted: integer(),
  invalid: integer(),
  failed: integer(),
  answer: stored(nullable(array(REQUEST_REPORT, "the platform's answers, one per request"))),
  confirmedAt: nullable(dateTime()),
});

export const LEDGER = object({
  identifier: string('the type searched, the value masked'),
  entries: array(
    object({
      profileId: string(),
      state: oneOfStrings(MEMBER_STATES),
      held: boolean('the platform holds the person now'),
      sent: boolean('an addition was confirmed'),
      removed: boolean('a removal was confirmed since'),
      reason: nullable(string()),
      item: anyJson('the item as the platform received it (hashed values)'),
      addedAt: nullable(dateTime()),
      addBatch: nullable(BATCH),
      removedAt: nullable(dateTime()),
      removeBatch: nullable(BATCH),
    }),
  ),
  pending: array(
    object({
      profileId: string(),
      operation: oneOfStrings(['add', 'remove']),
      reason: nullable(string('why the member is removed')),
      batch: object({
        id: string(),
        kind: string('write, replace, …'),
        state: oneOfStrings(OPEN_BATCH_STATES, 'planned: being sent, or sent again by the next delivery'),
        attempts: integer('sends so far'),
        nextAttemptAt: nullable(dateTime('when a retrying batch is sent again')),
        error: nullable(string('the last error of a retrying or blocked batch')),
        createdAt: dateTime(),
      }),
    }),
    'sends stored and not recorded yet: the ledger rows change when the platform has answered',
  ),
});

export const DEAD_LETTER = object({
  id: integer(),
  activationId: string(),
  batchId: string(),
  profileIds: array(string()),
  operation: string('add, remove, write or replace'),
  error: string('the last error'),
  attempts: integer(),
  createdAt: dateTime(),
  replayedAt: nullable(dateTime('when a replay re-queued its members')),
});

export const REPLAY = object({ queued: integer('members re-checked and sent again') });
