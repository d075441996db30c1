import {
  anyJson,
  anyOf,
  array,
  boolean,
  dateTime,
  integer,
  literal,
  nullable,
  object,
  oneOfStrings,
  record,
  string,
} from '../openapi/response-schema.js';

export const SCHEDULE = anyOf(
  object({ cron: string('cron expression') }, { tz: string('IANA time zone') }),
  object({ everySeconds: integer() }),
);

export const CONNECTION = object(
  {
    id: string(),
    name: string(),
    connector: string('the connector id'),
    config: record(anyJson(), 'the config; secret fields shown as "********"'),
    schedule: nullable(SCHEDULE),
    createdAt: dateTime(),
    updatedAt: dateTime(),
  },
  { writeKey: string('push sources: the write key, only in the answer that creates the source') },
);

export const CHECK_RESULT = anyOf(
  object({ ok: literal(true) }),
  object({
    ok: literal(false),
    failureType: oneOfStrings(['config', 'transient', 'system']),
    message: string(),
  }),
);

const STATS = {
  read: integer('records read'),
  written: integer('records stored'),
  quarantined: integer('records quarantined'),
  deleted: integer('records deleted upstream'),
  unchanged: integer('records the source delivered before unchanged: skipped, not stored again'),
};

export const RUN = object(
  {
    id: string(),
    sourceId: string(),
    status: oneOfStrings(['queued', 'running', 'waiting', 'succeeded', 'partial', 'failed', 'cancelled']),
    trigger: string('manual, schedule, upload, …'),
    createdAt: dateTime(),
    startedAt: nullable(dateTime()),
    finishedAt: nullable(dateTime()),
    stats: object(STATS),
    checkpoint: anyJson(),
  },
  {
    error: object({ type: string(), message: string() }),
    resumeAt: dateTime('when a waiting run resumes'),
    streams: array(object({ ...STATS, stream: string(), checkpoint: anyJson(), finished: boolean() })),
  },
);

export const QUARANTINED = object({
  id: integer(),
  sourceId: string(),
  runId: nullable(string()),
  stream: string(),
  record: anyJson('the record as the source sent it'),
  reason: string(),
  createdAt: dateTime(),
});

export const RUN_STARTED = object({ runId: string() });
export const UPLOAD_STARTED = object({ runId: string(), bytes: integer('bytes stored') });

export const CATALOG_ENTRY = object(
  {
    id: string(),
    kind: oneOfStrings(['source', 'destination']),
    version: string(),
    displayName: string(),
    sdk: string('the SDK range the connector was built for'),
    secrets: array(string(), 'config fields that are write-only'),
    configSchema: record(anyJson(), 'JSON Schema of the config (secret fields marked writeOnly)'),
    uploads: boolean('accepts file uploads'),
    webhook: boolean('accepts webhooks'),
    writeKey: boolean('a push source authenticated by a write key'),
  },
  {
    description: string(),
    identifiers: array(string()),
    streams: array(object({ name: string(), mode: string(), primaryKey: array(string()) }, { cursorField: string() })),
    accepts: array(string()),
    purpose: string(),
    batch: object({ maxItems: integer() }, { maxBytes: integer() }),
  },
);

export const LOAD_PROBLEM = object({ origin: string(), reason: string() });

export const WRITE_KEY = object({
  id: string(),
  prefix: string(),
  createdAt: dateTime(),
  expiresAt: nullable(dateTime()),
});

export const ROTATED_WRITE_KEY = object({
  writeKey: string('shown once'),
  previousKeysValidUntil: nullable(dateTime()),
});
