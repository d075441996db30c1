import type { PrivacyRequest, PrivacyRequestStatus, PrivacyRequestType, PrivacyStep } from '../../api/views.js';

export const REQUEST_TYPES: Array<{ value: PrivacyRequestType; label: string }> = [
  { value: 'delete', label: 'delete: erase the person everywhere (right to erasure)' },
  { value: 'suppress', label: 'suppress: stop collecting and activating them (restriction)' },
  { value: 'unsuppress', label: 'unsuppress: lift an earlier suppress' },
  { value: 'export', label: 'export: everything held about them (right of access)' },
];

export const STATUS_COLOR: Record<PrivacyRequestStatus, string> = {
  queued: 'gray',
  running: 'blue',
  waiting: 'violet',
  completed: 'green',
  failed: 'red',
};

export const STEP_COLOR: Record<PrivacyStep['status'], string> = {
  pending: 'gray',
  done: 'green',
  skipped: 'gray',
  waiting: 'violet',
  failed: 'red',
};

/** Steps that need nothing more: done, or skipped with a reason. */
export function stepsDone(r: Pick<PrivacyRequest, 'steps'>): number {
  return r.steps.filter((s) => s.status === 'done' || s.status === 'skipped').length;
}

/** The identifier as the API shows it: the value while the request runs (masked without pii:read), else the type. */
export function identifierText(r: Pick<PrivacyRequest, 'identifier'>): string {
  return r.identifier.value ? `${r.identifier.type}:${r.identifier.value}` : `${r.identifier.type} (value erased)`;
}
