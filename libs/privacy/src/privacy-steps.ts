import type { PrivacyRequestType } from '@plexus/storage';

export type StepName =
  | 'resolve'
  | 'suppress'
  | 'erase'
  | 'remove-from-destinations'
  | 'delete-at-destinations'
  | 'erase-ledger'
  | 'verify'
  | 'freeze'
  | 'unsuppress'
  | 'export';

export type StepStatus = 'pending' | 'done' | 'skipped' | 'waiting' | 'failed';

/** One step of a request as `GET /v1/privacy/requests/:id` shows it. */
export interface PrivacyStep {
  name: StepName;
  status: StepStatus;
  /** What the step did, or why it waits or failed. */
  detail?: string;
  /** What a waiting step waits on (e.g. each destination that has not confirmed the removal, and why). */
  waitingOn?: string[];
  attempts: number;
  updatedAt?: string;
}

/** The steps of each request type, in the order they run. A step starts only when those before it are done. */
export const STEPS: Record<PrivacyRequestType, StepName[]> = {
  delete: [
    'resolve',
    'suppress',
    'erase',
    'remove-from-destinations',
    'delete-at-destinations',
    'erase-ledger',
    'verify',
  ],
  suppress: ['resolve', 'suppress', 'freeze', 'remove-from-destinations'],
  unsuppress: ['resolve', 'unsuppress'],
  export: ['resolve', 'export'],
};

export const newSteps = (type: PrivacyRequestType): PrivacyStep[] =>
  STEPS[type].map((name) => ({ name, status: 'pending', attempts: 0 }));

/** What a step's run ends in: done (or skipped, with why), or waiting on something that is not done yet. */
export type StepOutcome =
  { status: 'done' | 'skipped'; detail?: string } | { status: 'waiting'; detail: string; waitingOn: string[] };

/** Retry delays of waiting or failed steps: 1 s doubling up to 5 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 9));
}
