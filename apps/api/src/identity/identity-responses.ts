import {
  anyJson,
  anyOf,
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

const IDENTIFIER = object({ type: string(), value: string() });

export const EVENT = object({
  id: integer(),
  profileId: string(),
  sourceId: string(),
  eventId: nullable(string('the sender’s message id')),
  name: string(),
  occurredAt: dateTime(),
  properties: record(anyJson()),
});

export const PROFILE_SUMMARY = object({ id: string(), createdAt: dateTime(), updatedAt: dateTime() });

export const PROFILE = object(
  {
    id: string(),
    createdAt: dateTime(),
    updatedAt: dateTime(),
    identifiers: array(
      object({
        type: string(),
        value: string(),
        sourceId: string('where it was first seen'),
        firstSeen: dateTime(),
        lastSeen: dateTime(),
      }),
    ),
    traits: record(
      object(
        { value: anyJson(), sourceId: string('where the surviving value came from'), observedAt: dateTime() },
        { expiresAt: dateTime() },
      ),
    ),
    consent: record(object({ granted: boolean(), sourceId: string(), observedAt: dateTime() })),
    recentEvents: array(EVENT),
  },
  { redirectedFrom: string('the id asked for, merged into this profile') },
);

/** Searching by identifier answers whole profiles; listing answers summaries. */
export const PROFILE_OR_SUMMARY = anyOf(PROFILE, PROFILE_SUMMARY);

export const HISTORY_ENTRY = object(
  { kind: oneOfStrings(['created', 'merge']), at: dateTime() },
  {
    mergeId: integer(),
    winner: string(),
    loser: string(),
    causedBy: array(object({ type: string(), value: string() }, { profileId: string() })),
    sourceId: nullable(string()),
    runId: nullable(string()),
    observationId: nullable(integer()),
    undoneAt: nullable(dateTime()),
    undoNote: nullable(string()),
  },
);

export const UNMERGE_RESULT = object({
  mergeId: integer(),
  profiles: array(string(), 'the first keeps the original id, the second the loser’s'),
  separated: array(array(IDENTIFIER), 'the identifiers that caused the merge: winner’s side, loser’s side'),
});

export const RULES_VIEW = object({
  rules: anyJson('the identity rules'),
  version: integer(),
  updatedAt: nullable(dateTime()),
  isDefault: boolean(),
});

export const DRY_RUN = object({
  observations: integer('stored records replayed'),
  wouldSplit: array(object({ profileId: string(), into: integer() })),
  wouldMerge: array(object({ profileIds: array(string()) })),
  splitCount: integer(),
  mergeCount: integer(),
});

export const FLAG = object({
  type: string(),
  value: string(),
  people: array(string()),
  reason: nullable(string()),
  firstSeenAt: dateTime(),
  updatedAt: dateTime(),
});
