/**
 * Shapes of the API's answers as the console reads them. The OpenAPI document types every path, parameter
 * and request body (see schema.d.ts); its responses carry no schemas yet, so their bodies are described here.
 */
export interface Page<T> {
  data: T[];
  next: string | null;
}

export interface CatalogEntry {
  id: string;
  kind: 'source' | 'destination';
  version: string;
  displayName: string;
  description?: string;
  secrets: string[];
  configSchema: Record<string, unknown>;
  identifiers?: string[];
  streams?: Array<{ name: string; mode: string; primaryKey: string[]; cursorField?: string }>;
  uploads: boolean;
  webhook: boolean;
  writeKey: boolean;
}

export type Schedule = { cron: string; tz?: string } | { everySeconds: number };

export interface Connection {
  id: string;
  name: string;
  connector: string;
  config: Record<string, unknown>;
  schedule: Schedule | null;
  createdAt: string;
  updatedAt: string;
  writeKey?: string;
}

export interface RunStats {
  read: number;
  written: number;
  quarantined: number;
  deleted: number;
}

export interface Run {
  id: string;
  sourceId: string;
  status: 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';
  trigger: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  stats: RunStats;
  error?: { type: string; message: string };
  streams?: Array<RunStats & { stream: string; finished: boolean }>;
}

export const FINISHED_RUN = ['succeeded', 'partial', 'failed', 'cancelled'];

export type CheckResult = { ok: true } | { ok: false; failureType: string; message: string };

export interface Quarantined {
  id: number;
  runId: string | null;
  stream: string;
  record: unknown;
  reason: string;
  createdAt: string;
}

export interface ProfileEvent {
  id: number;
  sourceId: string;
  eventId: string | null;
  name: string;
  occurredAt: string;
  properties: Record<string, unknown>;
}

export interface Profile {
  id: string;
  createdAt: string;
  updatedAt: string;
  redirectedFrom?: string;
  identifiers: Array<{ type: string; value: string; sourceId: string; firstSeen: string; lastSeen: string }>;
  traits: Record<string, { value: unknown; sourceId: string; observedAt: string }>;
  consent: Record<string, { granted: boolean; sourceId: string; observedAt: string }>;
  recentEvents: ProfileEvent[];
}

export interface ProfileSummary {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export interface HistoryEntry {
  kind: 'created' | 'merge';
  at: string;
  mergeId?: number;
  winner?: string;
  loser?: string;
  causedBy?: Array<{ type: string; value: string; profileId?: string }>;
  sourceId?: string | null;
  runId?: string | null;
  undoneAt?: string | null;
  undoNote?: string | null;
}

export interface UnmergeResult {
  mergeId: number;
  profiles: string[];
  /** The identifiers that caused the merge, winner's side first: no profile holds both sides again. */
  separated: [Array<{ type: string; value: string }>, Array<{ type: string; value: string }>];
}

export interface RulesView {
  rules: Record<string, unknown>;
  version: number;
  updatedAt: string | null;
  isDefault: boolean;
}

export interface DryRunReport {
  observations: number;
  wouldSplit: Array<{ profileId: string; into: number }>;
  wouldMerge: Array<{ profileIds: string[] }>;
  splitCount: number;
  mergeCount: number;
}

export interface Flag {
  type: string;
  value: string;
  people: string[];
  reason: string | null;
  firstSeenAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface WriteKeyInfo {
  id: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
}
