import type { FieldProblem } from '@plexus/errors';

/** What the retention sweep removes, and when it runs. */
export interface RetentionPolicy {
  /** Events older than this many days are deleted; null keeps them. */
  eventsDays: number | null;
  /** Quarantined raw records older than this many days are deleted; null keeps them. */
  quarantineDays: number | null;
  /**
   * Activation ledger member rows of people no platform holds any more, unchanged for this many days, are erased;
   * null keeps them. Rows of members a platform holds always stay.
   */
  ledgerDays: number | null;
  /** Export documents are deleted this many days after they were produced. */
  exportsDays: number;
  /** Profiles left without any identifier (anonymous ones whose identifiers expired) are deleted. */
  deleteEmptyProfiles: boolean;
  /** Rows each sweep statement reads at most: the bound on how long one statement holds its locks. */
  batchSize: number;
  /** When the sweep runs: `{ cron, tz? }` or `{ everySeconds }`. */
  schedule: { cron: string; tz?: string } | { everySeconds: number };
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  eventsDays: null,
  quarantineDays: 90,
  ledgerDays: 395,
  exportsDays: 7,
  deleteEmptyProfiles: true,
  batchSize: 1000,
  schedule: { cron: '30 3 * * *' },
};

const FIELDS = new Set(Object.keys(DEFAULT_RETENTION_POLICY));
const MAX_DAYS = 36_500;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const days = (v: unknown, nullable: boolean): string | undefined =>
  (v === null && nullable) || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_DAYS)
    ? undefined
    : `must be a whole number of days from 1 to ${MAX_DAYS}${nullable ? ' or null' : ''}`;

/** A policy from a (partial) body over `base`, or every problem with its field (the schedule is checked apart). */
export function parseRetentionPolicy(
  body: unknown,
  base: RetentionPolicy,
): { policy: RetentionPolicy } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const problem = (field: string, text: string): void => void problems.push({ field, problems: [text] });
  if (!isObject(body)) return { problems: [{ field: 'body', problems: ['must be a JSON object'] }] };
  for (const key of Object.keys(body)) if (!FIELDS.has(key)) problem(key, 'is not a retention setting');
  const policy: RetentionPolicy = { ...base, ...(body as Partial<RetentionPolicy>) };
  for (const [field, nullable] of [
    ['eventsDays', true],
    ['quarantineDays', true],
    ['ledgerDays', true],
    ['exportsDays', false],
  ] as const) {
    const p = days(policy[field], nullable);
    if (p) problem(field, p);
  }
  if (typeof policy.deleteEmptyProfiles !== 'boolean') problem('deleteEmptyProfiles', 'must be a boolean');
  if (!Number.isInteger(policy.batchSize) || policy.batchSize < 10 || policy.batchSize > 50_000)
    problem('batchSize', 'must be a whole number from 10 to 50000');
  return problems.length > 0 ? { problems } : { policy };
}
