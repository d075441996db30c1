import type { paths } from './schema.js';

/**
 * Names for the API's answers as the console reads them, all taken from the OpenAPI document the hub serves
 * (schema.d.ts is generated from it): a changed response shape fails the console's type check.
 */
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Success<R> = JsonOf<R[Extract<keyof R, 200 | 201 | 202>]>;

/** The JSON body of a successful answer of `method path`. */
export type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? Success<R>
  : never;

/** One item of a listing answer (`{ data: [...] }`). */
type Item<P extends keyof paths> = 'get' extends keyof paths[P]
  ? Answer<P, 'get'> extends { data: Array<infer T> }
    ? T
    : never
  : never;

export interface Page<T> {
  data: T[];
  next: string | null;
}

export type CatalogEntry = Answer<'/v1/connectors/{id}', 'get'>;
export type Connection = Answer<'/v1/sources/{id}', 'get'>;
export type Schedule = NonNullable<Connection['schedule']>;
export type Run = Answer<'/v1/runs/{id}', 'get'>;
export type RunStats = Run['stats'];
export const FINISHED_RUN: ReadonlyArray<Run['status']> = ['succeeded', 'partial', 'failed', 'cancelled'];
export type CheckResult = Answer<'/v1/sources/{id}/check', 'post'>;
export type Quarantined = Item<'/v1/sources/{id}/quarantine'>;
export type WriteKeyInfo = Item<'/v1/sources/{id}/write-keys'>;

export type Profile = Answer<'/v1/profiles/{id}', 'get'>;
export type ProfileSummary = Pick<Profile, 'id' | 'createdAt' | 'updatedAt'>;
export type ProfileEvent = Item<'/v1/profiles/{id}/events'>;
export type HistoryEntry = Item<'/v1/profiles/{id}/history'>;
export type UnmergeResult = Answer<'/v1/profiles/{id}/unmerge', 'post'>;
export type RulesView = Answer<'/v1/identity/rules', 'get'>;
export type DryRunReport = Answer<'/v1/identity/rules/dry-run', 'post'>;
export type Flag = Item<'/v1/identity/flags'>;

export type Destination = Answer<'/v1/destinations/{id}', 'get'>;
export type Activation = Answer<'/v1/activations/{id}', 'get'>;
export type ActivationStatus = Activation['status'];
export type ActivationRun = Item<'/v1/activations/{id}/runs'>;
export type LedgerAnswer = Answer<'/v1/activations/{id}/ledger', 'get'>;
export type LedgerEntry = LedgerAnswer['entries'][number];
export type LedgerBatch = NonNullable<LedgerEntry['addBatch']>;
export type PendingSend = LedgerAnswer['pending'][number];
export type DeadLetter = Item<'/v1/activations/{id}/dead-letters'>;

export type PrivacyRequest = Answer<'/v1/privacy/requests/{id}', 'get'>;
export type PrivacyRequestType = PrivacyRequest['type'];
export type PrivacyRequestStatus = PrivacyRequest['status'];
export type PrivacyStep = PrivacyRequest['steps'][number];
export const FINISHED_PRIVACY_REQUEST: ReadonlyArray<PrivacyRequestStatus> = ['completed', 'failed'];
export type Retention = Answer<'/v1/retention', 'get'>;
export type RetentionPolicy = Retention['policy'];
export type RetentionRun = Item<'/v1/retention/runs'>;

export type ApiKey = Item<'/v1/api-keys'>;
export type CurrentKey = Answer<'/v1/api-keys/me', 'get'>;
export type Scope = CurrentKey['scopes'][number];
/** Every scope the API knows, with what it allows; a scope the API adds fails the build until it is here. */
export const SCOPE_MEANING: Record<Scope, string> = {
  admin: 'everything',
  read: 'read everything but personal data',
  'sources:write': 'sources, runs, uploads, write keys',
  'audiences:write': 'audiences and computed traits',
  'activations:write': 'destinations and activations',
  privacy: 'privacy requests',
  'pii:read': 'see personal data',
};
export const SCOPES = Object.keys(SCOPE_MEANING) as Scope[];
