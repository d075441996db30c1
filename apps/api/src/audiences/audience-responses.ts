import {
  anyJson,
  array,
  boolean,
  dateTime,
  integer,
  literal,
  nullable,
  object,
  oneOfStrings,
  stored,
  string,
} from '../openapi/response-schema.js';

export const EVALUATION = object({
  audienceId: string(),
  entered: integer('profiles that entered'),
  exited: integer('profiles that left'),
  size: integer('members after the evaluation'),
  evaluatedAt: dateTime(),
});

export const AUDIENCE = object(
  {
    id: string(),
    name: string(),
    description: nullable(string()),
    rule: anyJson('the rule tree (docs/AUDIENCES.md)'),
    size: integer(),
    lastEvaluatedAt: nullable(dateTime()),
    createdAt: dateTime(),
    updatedAt: dateTime(),
  },
  {
    evaluation: EVALUATION,
    warnings: array(string(), 'conditions that look like they cannot match'),
  },
);

const CONDITION_RESULT = object({
  path: string('where the condition sits in the rule, e.g. rule.all[0]'),
  condition: anyJson('the condition node'),
  ok: boolean(),
  value: anyJson('the data behind the verdict (a trait value, an event count, …)'),
});

/** Why a profile is in or out (docs/AUDIENCES.md). */
export const MEMBERSHIP_REASON = object(
  { matched: boolean(), because: array(CONDITION_RESULT, 'the conditions that decided') },
  {
    evaluation: string('full, rule (the rule changed), profiles (real time) or schedule'),
    mergedInto: string('the profile it was merged into'),
    deleted: literal(true),
  },
);

export const PREVIEW = object({
  size: integer(),
  sample: array(string(), 'profile ids'),
  warnings: array(string()),
});

export const OVERLAP = object({
  audiences: array(object({ id: string(), name: string(), size: integer() })),
  pairs: array(object({ a: string(), b: string(), count: integer('members in both') })),
});

export const MEMBER = object({
  profileId: string(),
  enteredAt: dateTime(),
  reason: stored(MEMBERSHIP_REASON),
});

export const CHANGE = object({
  cursor: integer('read the log after this cursor to continue'),
  audienceId: string(),
  profileId: string(),
  change: oneOfStrings(['entered', 'exited']),
  reason: stored(MEMBERSHIP_REASON),
  createdAt: dateTime(),
});

export const CHANGES = object({ data: array(CHANGE), next: integer('the cursor to continue after') });

export const SIZE_POINT = object({
  at: dateTime(),
  size: integer(),
  entered: integer(),
  exited: integer(),
  kind: string('the evaluation: full, rule, profiles or schedule'),
});

export const PROFILE_AUDIENCE = object({
  audienceId: string(),
  name: string(),
  member: boolean(),
  enteredAt: nullable(dateTime()),
  reason: MEMBERSHIP_REASON,
});

export const COMPUTED_TRAIT = object(
  {
    id: string(),
    name: string(),
    event: string(),
    aggregation: string(),
    timeDependent: boolean('whether values change with the clock (a window)'),
    createdAt: dateTime(),
    updatedAt: dateTime(),
  },
  {
    within: string(),
    where: array(anyJson()),
    property: string(),
    written: integer('profiles whose value was written (create and update)'),
  },
);

export const COMPUTED_VALUE = object({ name: string(), value: anyJson(), computedAt: dateTime() });
