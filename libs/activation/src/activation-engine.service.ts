import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AudienceChangeLog, AudienceNotFoundError, AudienceService } from '@plexus/audiences';
import { Environment } from '@plexus/config';
import {
  ConnectorError,
  verdictsForFailure,
  type AudienceRef,
  type IdentifierType,
  type RequestReport,
  type Verdict,
  type WrittenRecord,
} from '@plexus/sdk';
import {
  ActivationRepository,
  emptyBatchPayload,
  LeaseLostError,
  SecretBox,
  type ActivationProfile,
  type ActivationRow,
  type BatchPayload,
  type BatchState,
  type MemberOutcome,
  type MirrorState,
  type PlannedMember,
  type RunCounters,
} from '@plexus/storage';
import { ActivationMetrics } from './activation.metrics.js';
import { DestinationAccess, type OpenDestination } from './destination-access.js';
import { IdentifierFingerprints } from './fingerprints.js';
import {
  expectedLedger,
  ledgerItem,
  planBatchYielding,
  type Intent,
  type LedgerView,
  type PlanContext,
  type ProfileSnapshot,
} from './member-planner.js';
import { ActivationWriteHooks } from './write-hooks.js';

/** Attempts of a batch (the first send included) before its members go to the dead letters. */
export const MAX_BATCH_ATTEMPTS = 5;
/** Upper bound of items per request the engine plans, whatever a connector declares. */
export const MAX_PLANNED_ITEMS = 10_000;
/**
 * Batches of one activation sent at once (their requests still wait for the destination's rate budget): a platform
 * slower to answer a request than the budget allows between two is kept busy.
 */
export const MAX_BATCHES_IN_FLIGHT = 4;
/** The first engine-level retry waits this long (doubling per attempt) unless the platform said otherwise. */
export const RETRY_BASE_MS = 5_000;

/** The error of a run whose worker stopped before finishing it; its unconfirmed batches are resent by the next. */
export const INTERRUPTED_RUN = 'interrupted: the worker delivering it stopped; unconfirmed batches are sent again';

export type DeliverState = 'idle' | 'more' | 'waiting' | 'busy' | 'stopped' | 'deleted';

export interface DeliverResult {
  state: DeliverState;
  /** `waiting`: when a batch is due again. */
  until?: Date;
  batches: number;
}

/** What sending one batch came to: recorded and done, or the delivery must wait or stop. */
type SendOutcome = { state: 'confirmed' } | { state: 'waiting'; until: Date } | { state: 'stopped' };

/** The platform's answer to one batch: a verdict per item and its request reports. */
interface Answer {
  adds: Verdict[];
  removes: Verdict[];
  requests: RequestReport[];
  written?: WrittenRecord[];
}

/** One planned batch before it is stored, with what planning it advanced. */
interface Planned {
  id: string;
  kind: 'write' | 'replace';
  payload: BatchPayload;
  cursorTo: number | null;
  session: number | null;
  mirror?: MirrorState | null;
  changes: number;
  /** Where planning stood before this batch, to plan again from there. */
  cursorFrom: number;
  mirrorFrom: MirrorState | null;
  recheckFrom?: string;
}

/** A stored batch being sent. */
interface Sending {
  id: string;
  kind: 'write' | 'replace';
  payload: BatchPayload;
  cursorTo: number | null;
  session: number | null;
  attempts: number;
  changes: number;
}

/** A stored batch on its way: sent (or waiting for the rate budget), then its answer recorded. */
interface Flight {
  id: string;
  kind: 'write' | 'replace';
  /** The platform answered (or the send failed). */
  answered: Promise<void>;
  /** The answer is recorded (in order after the batches sent before it). */
  outcome: Promise<SendOutcome>;
  /** The members it put in the overlay: their entries go once it is recorded. */
  members: string[];
}

/** Where planning stands within one delivery (ahead of what is recorded while a batch is in flight). */
interface Position {
  cursor: number;
  mirror: MirrorState | null;
  recheckAfter?: string;
  heldAfter?: string;
  rechecksDone: boolean;
}

interface Delivery {
  activation: ActivationRow;
  destination: OpenDestination;
  audienceName: string;
  context: PlanContext;
  maxItems: number;
  runId?: number;
  counters: RunCounters;
  stopped?: string;
  /**
   * Aborted when the lease is lost: no batch is planned or sent after that. Those already on their way are
   * answered and recorded (the platform's answers are facts); the new holder resends what stays unconfirmed.
   */
  lease: AbortSignal;
  /** Aborts `lease`: a fenced write found another worker holding it. */
  loseLease(why: string): void;
  /** The change log's next page and its profiles, read while the page before it is planned (`planChanges`). */
  prefetch?: { cursor: number; page: Promise<ChangesPage> };
}

/** What the profiles of a batch are, read before the ledger: snapshots, and which of them privacy froze. */
type ProfileReads = [ActivationProfile[], Set<string>];

/** A page of the audience's change log: the last change for each person, and maybe their profiles, being read. */
interface ChangesPage {
  changes: number;
  cursorTo: number;
  intents: Map<string, Intent>;
  profiles?: Promise<ProfileReads>;
}

const emptyCounters = (): RunCounters => ({
  changes: 0,
  adds: 0,
  removes: 0,
  accepted: 0,
  invalid: 0,
  failed: 0,
  notSendable: 0,
  notSendableReasons: {},
});

/** The intents of most members (shared: planning never changes an intent). */
const PRESENT: Intent = Object.freeze({ present: true });
const LEFT: Intent = Object.freeze({ present: false, reason: 'left the audience' });

/**
 * What is stored of a batch before it is sent: its members and what each is to become, not the items. A batch
 * sent again (after a crash, for a retry) is planned again from these, so it carries what the profile and the
 * ledger say then — the same items when nothing changed — and a 10,000-item batch is not megabytes written twice.
 */
function withoutItems(payload: BatchPayload): BatchPayload {
  const strip = (m: PlannedMember): PlannedMember => ({
    profileId: m.profileId,
    item: null,
    fingerprints: [],
    ...(m.reason ? { reason: m.reason } : {}),
  });
  return {
    adds: payload.adds.map(strip),
    removes: payload.removes.map(strip),
    notSendable: payload.notSendable.map(strip),
    closed: payload.closed.map(strip),
    rechecks: payload.rechecks,
    ...(payload.replace ? { replace: payload.replace } : {}),
  };
}

/** Every member a batch names. */
function memberIds(payload: BatchPayload): string[] {
  return [...payload.adds, ...payload.removes, ...payload.notSendable, ...payload.closed].map((m) => m.profileId);
}

/** The position of the newest batch in flight that names a member of `payload`, or -1. */
function lastFlightTouching(flights: Flight[], overlay: Map<string, { batch: string }>, payload: BatchPayload): number {
  let last = -1;
  for (const id of memberIds(payload)) {
    const batch = overlay.get(id)?.batch;
    if (batch !== undefined)
      last = Math.max(
        last,
        flights.findIndex((f) => f.id === batch),
      );
  }
  return last;
}

/** An answer that makes the delivery wait or stop: an item to retry or a failure other than an invalid item. */
function troubled(answer: Answer): boolean {
  const ok = (v: Verdict) => 'ok' in v || ('abort' in v && v.failureType === 'invalid');
  return !answer.adds.every(ok) || !answer.removes.every(ok);
}

/** The audience as the destination's connector sees it: this activation's, with the platform's id once known. */
function audienceRef(d: Delivery): AudienceRef {
  const ref: AudienceRef = { id: d.activation.audienceId, name: d.audienceName, activationId: d.activation.id };
  if (d.activation.externalId) ref.externalId = d.activation.externalId;
  return ref;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Delivers each activation's audience changes to its destination: follows the change log from the activation's
 * cursor, plans batches of the destination's size (consent, accepted identifiers, the connector's normalisation and
 * hashing), stores each batch before sending it, and records the platform's answer, the ledger rows and the cursor
 * in one transaction. Planning the next batch overlaps sending the previous one.
 */
@Injectable()
export class ActivationEngine {
  private readonly logger = new Logger('ActivationEngine');
  private readonly owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly fingerprints: IdentifierFingerprints;

  constructor(
    private readonly repository: ActivationRepository,
    private readonly changeLog: AudienceChangeLog,
    private readonly audiences: AudienceService,
    private readonly destinations: DestinationAccess,
    private readonly metrics: ActivationMetrics,
    private readonly hooks: ActivationWriteHooks,
    private readonly env: Environment,
    secrets: SecretBox,
  ) {
    this.fingerprints = new IdentifierFingerprints(secrets.deriveKey('activation-ledger'));
  }

  /**
   * Works on one activation for up to `budgetMs`: resends batches a crash left unconfirmed, sends retries that are
   * due, then plans and sends new batches until caught up. Only one worker at a time works on an activation.
   */
  async deliver(
    activationId: string,
    options: { budgetMs?: number; trigger?: string; signal?: AbortSignal } = {},
  ): Promise<DeliverResult> {
    const leaseMs = this.env.ACTIVATION_LEASE_MS;
    const claimed = await this.repository.claimLease(activationId, this.owner, leaseMs);
    if (!claimed) return { state: 'busy', batches: 0 };
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    // The lease is renewed every third of its length. Lost to another worker (this process stalled past it), or
    // not renewed for a whole lease, the delivery stops planning and sending: the other worker owns it now.
    const lease = new AbortController();
    let renewedAt = Date.now();
    const renew = setInterval(() => {
      this.repository.renewLease(activationId, this.owner, leaseMs).then(
        (held) => {
          if (held) renewedAt = Date.now();
          else this.loseLease(lease, activationId, 'another worker holds it now');
        },
        (error: unknown) => {
          this.logger.warn(`activation ${activationId}: the lease could not be renewed: ${messageOf(error)}`);
          if (Date.now() - renewedAt >= leaseMs) this.loseLease(lease, activationId, 'it expired unrenewed');
        },
      );
    }, leaseMs / 3);
    let delivery: Delivery | undefined;
    try {
      // Holding the lease, no other worker has a run going here: one still marked running was interrupted.
      await this.repository.closeInterruptedRuns(activationId, INTERRUPTED_RUN);
      const opened = await this.open(claimed, signal, lease.signal, (why) => this.loseLease(lease, activationId, why));
      if ('result' in opened) return opened.result;
      delivery = opened.delivery;
      return await this.work(delivery, Date.now() + (options.budgetMs ?? 30_000), options.trigger ?? 'changes');
    } finally {
      clearInterval(renew);
      controller.abort();
      if (delivery?.runId !== undefined) await this.finishRun(delivery);
      await this.repository.releaseLease(activationId, this.owner);
    }
  }

  private loseLease(lease: AbortController, activationId: string, why: string): void {
    if (lease.signal.aborted) return;
    this.logger.warn(`activation ${activationId}: lease lost (${why}); this delivery stops`);
    lease.abort();
  }

  private async open(
    activation: ActivationRow,
    signal: AbortSignal,
    lease: AbortSignal,
    loseLease: (why: string) => void,
  ): Promise<{ delivery: Delivery } | { result: DeliverResult }> {
    if (activation.status === 'deleted') return { result: { state: 'deleted', batches: 0 } };
    if (activation.status === 'paused' || activation.status === 'stopped')
      return { result: { state: 'stopped', batches: 0 } };
    const destination = await this.destinations.open(activation.destinationId, signal).catch(async (error) => {
      await this.stop(activation, 'config', `the destination cannot be opened: ${messageOf(error)}`);
      return undefined;
    });
    if (!destination) {
      if (activation.status === 'deleting') {
        // Nothing can reach a platform whose destination is gone: the ledger keeps what it held.
        await this.repository.update(activation.id, {
          status: 'deleted',
          error: { type: 'config', message: 'the destination was deleted', at: new Date().toISOString() },
        });
        return { result: { state: 'deleted', batches: 0 } };
      }
      await this.stop(activation, 'config', `destination ${activation.destinationId} no longer exists`);
      return { result: { state: 'stopped', batches: 0 } };
    }
    const audienceName = await this.audiences
      .get(activation.audienceId)
      .then((a) => a.name)
      .catch(() => activation.audienceId);
    const accepts = destination.definition.accepts;
    const types = new Set<IdentifierType>(
      activation.identifiers.length > 0 ? accepts.filter((t) => activation.identifiers.includes(t)) : accepts,
    );
    return {
      delivery: {
        activation,
        destination,
        audienceName,
        context: { definition: destination.definition, types, fingerprints: this.fingerprints },
        maxItems: Math.min(destination.definition.batch.maxItems, MAX_PLANNED_ITEMS),
        counters: emptyCounters(),
        lease,
        loseLease,
      },
    };
  }

  private async work(d: Delivery, deadline: number, trigger: string): Promise<DeliverResult> {
    let batches = 0;
    // Batches stored earlier and not confirmed: a crash, a retry, a replay. They go first, in order.
    for (const open of await this.repository.openBatches(d.activation.id)) {
      if (d.lease.aborted) return { state: 'busy', batches };
      if (open.state === 'blocked') return { state: 'stopped', batches };
      if (open.nextAttemptAt && open.nextAttemptAt.getTime() > Date.now()) {
        await this.repository.update(d.activation.id, { nextAttemptAt: open.nextAttemptAt });
        return { state: 'waiting', until: open.nextAttemptAt, batches };
      }
      if (!(await this.ensurePlatformAudience(d))) return { state: 'stopped', batches };
      await this.startRun(d, open.state === 'planned' ? 'resume' : 'retry');
      const outcome = await this.send(d, {
        id: open.id,
        kind: open.kind,
        payload: await this.replan(d, open.kind, open.payload ?? emptyBatchPayload()),
        cursorTo: open.cursorTo,
        session: open.session,
        attempts: open.attempts,
        changes: 0,
      });
      batches++;
      if (outcome.state !== 'confirmed') return { ...outcome, batches };
    }
    const fresh = await this.repository.get(d.activation.id);
    if (!fresh) return { state: 'deleted', batches };
    d.activation = fresh;
    await this.repository.update(d.activation.id, { nextAttemptAt: null });

    const position: Position = { cursor: fresh.cursor, mirror: fresh.mirror, rechecksDone: false };
    // What batches planned but not yet recorded will make of their members: planning reads the ledger through it.
    const overlay = new Map<string, LedgerView & { batch: string }>();
    // Batches sent or being sent whose answers are not recorded yet, oldest first. Up to MAX_BATCHES_IN_FLIGHT are
    // sent at once (the destination's rate budget paces their requests); their answers are recorded one after the
    // other, in order, each while later batches are sent.
    const flights: Flight[] = [];
    // The record of the newest batch: the next one is recorded after it (and not at all if it failed).
    let lastRecord: Promise<SendOutcome> = Promise.resolve({ state: 'confirmed' });
    // An answer asked to retry or stop: nothing more is sent in this delivery.
    let halted = false;
    let failure: Exclude<SendOutcome, { state: 'confirmed' }> | undefined;
    // The planning of the next batch, which runs while the current one is stored and sent.
    let planning: Promise<unknown> = Promise.resolve();
    /** Waits for the records of the oldest batches up to `index`; remembers the first that did not confirm. */
    const settleThrough = async (index: number): Promise<void> => {
      for (const flight of flights.splice(0, index + 1)) {
        const outcome = await flight.outcome;
        for (const profileId of flight.members)
          if (overlay.get(profileId)?.batch === flight.id) overlay.delete(profileId);
        if (outcome.state !== 'confirmed') failure ??= outcome;
      }
    };
    let seq = await this.repository.nextSeq(d.activation.id);
    // The platform's audience is created (or found) while the first batch is planned: its requests take the
    // budget's first slots, and the first batch is ready by the time the budget lets it go.
    const [first, ensured] = await Promise.allSettled([
      this.planNext(d, position, overlay),
      d.activation.status === 'deleting' ? Promise.resolve(true) : this.ensurePlatformAudience(d),
    ]);
    if (first.status === 'rejected') throw first.reason;
    if (ensured.status === 'rejected') throw ensured.reason;
    let planned = first.value;
    try {
      // Stopped by the platform's audience: the finally below still waits for the page the planning read ahead.
      if (!ensured.value) return { state: 'stopped', batches };
      while (planned && !halted && !failure && !d.lease.aborted) {
        // A batch touching a member of a batch not recorded yet waits for that record: if the platform refused
        // the earlier batch, this one was planned on a wrong assumption and is planned again.
        const clash = lastFlightTouching(flights, overlay, planned.payload);
        if (clash >= 0) {
          await settleThrough(clash);
          if (failure) break;
          position.cursor = planned.cursorFrom;
          position.mirror = planned.mirrorFrom;
          position.recheckAfter = planned.recheckFrom;
          planned = await this.planNext(d, position, overlay);
          continue;
        }
        if (flights.length >= MAX_BATCHES_IN_FLIGHT) {
          await settleThrough(0);
          continue;
        }
        // A replace session's batches reach the platform one after the other, in their order, and nothing else
        // is sent to the audience while one of them is on its way.
        if (planned.kind === 'replace' || flights.some((f) => f.kind === 'replace'))
          await Promise.all(flights.map((f) => f.answered));
        await this.startRun(d, trigger);
        const members: string[] = [];
        for (const [profileId, view] of expectedLedger(planned.payload)) {
          overlay.set(profileId, { ...view, batch: planned.id });
          members.push(profileId);
        }
        // Plan the next batch while this one is stored and sent, as if it succeeds; it is stored only if it did.
        const next = Date.now() < deadline ? this.planNext(d, position, overlay) : Promise.resolve(undefined);
        planning = next.catch(() => undefined); // awaited below, after the send has started
        try {
          await this.repository.insertBatch({
            id: planned.id,
            activationId: d.activation.id,
            runId: d.runId ?? null,
            seq: seq++,
            kind: planned.kind,
            cursorTo: planned.cursorTo,
            session: planned.session,
            payload: withoutItems(planned.payload),
            mirror: planned.mirror,
            leaseOwner: this.owner,
          });
        } catch (error) {
          // Taken over since the last renewal: the new holder plans this batch itself.
          if (!(error instanceof LeaseLostError)) throw error;
          d.loseLease('another worker holds it now; the planned batch was not stored');
          break;
        }
        const sending: Sending = { ...planned, attempts: 0 };
        const answer = this.transmit(d, sending).then((a) => {
          if (troubled(a)) halted = true;
          return a;
        });
        // Recorded after the batch before it: on PostgreSQL its ledger rows are written meanwhile, and it commits
        // once that one has (see `recordBatch`).
        const previous = lastRecord;
        const outcome = answer.then(async (a) => {
          const recorded = await this.handleWriteResult(d, sending, a, previous);
          await previous; // in order, also when nothing was recorded
          return recorded;
        });
        // Awaited in order by settleThrough (or the finally below); marked handled so a failure waits for it.
        outcome.catch(() => undefined);
        lastRecord = outcome;
        flights.push({
          id: sending.id,
          kind: sending.kind,
          answered: answer.then(() => undefined),
          outcome,
          members,
        });
        batches++;
        planned = await next;
      }
      await settleThrough(flights.length - 1);
      if (failure) return { ...failure, batches };
      if (d.lease.aborted) return { state: 'busy', batches };
      if (!planned && Date.now() >= deadline) return { state: 'more', batches };
    } finally {
      // An error leaves no planning, read, send or record running behind the lease.
      const prefetch = d.prefetch?.page.then((page) => page.profiles).catch(() => undefined);
      d.prefetch = undefined;
      await Promise.all([planning, prefetch, ...flights.map((f) => f.outcome.catch(() => undefined))]);
    }
    if (d.activation.status === 'deleting') {
      const open = await this.repository.openBatches(d.activation.id);
      const held = await this.repository.heldPage(d.activation.id, 1);
      if (open.length === 0 && held.length === 0) {
        await this.repository.update(d.activation.id, { status: 'deleted' });
        return { state: 'deleted', batches };
      }
      return { state: 'more', batches };
    }
    return { state: batches > 0 ? 'more' : 'idle', batches };
  }

  /** The next batch to send, or undefined when caught up. Advances `position` past what it planned. */
  private async planNext(
    d: Delivery,
    position: Position,
    overlay: Map<string, LedgerView>,
  ): Promise<Planned | undefined> {
    const from = { cursorFrom: position.cursor, mirrorFrom: position.mirror, recheckFrom: position.recheckAfter };
    const planned = await this.planFrom(d, position, overlay);
    return planned ? { ...planned, ...from } : undefined;
  }

  private async planFrom(
    d: Delivery,
    position: Position,
    overlay: Map<string, LedgerView>,
  ): Promise<Omit<Planned, 'cursorFrom' | 'mirrorFrom' | 'recheckFrom'> | undefined> {
    if (d.activation.status === 'deleting') return this.planRemoveAll(d, position);
    if (position.mirror) return this.planMirror(d, position, overlay);
    if (!position.rechecksDone) {
      const planned = await this.planRechecks(d, position, overlay);
      if (planned) return planned;
      position.rechecksDone = true;
    }
    return this.planChanges(d, position, overlay);
  }

  private async planChanges(
    d: Delivery,
    position: Position,
    overlay: Map<string, LedgerView>,
  ): Promise<Omit<Planned, 'cursorFrom' | 'mirrorFrom' | 'recheckFrom'> | undefined> {
    let page: ChangesPage;
    try {
      page = await this.changesPage(d, position.cursor);
    } catch (error) {
      if (!(error instanceof AudienceNotFoundError)) throw error;
      // The audience is gone: everything it put on the platform comes off.
      await this.repository.update(d.activation.id, {
        status: 'deleting',
        error: { type: 'audience-deleted', message: 'the audience was deleted', at: new Date().toISOString() },
      });
      d.activation = { ...d.activation, status: 'deleting' };
      return this.planRemoveAll(d, position);
    }
    if (page.changes === 0) return undefined;
    position.cursor = page.cursorTo;
    // The next page and its profiles are read while this one is planned, stored and sent: the worker has them
    // when it plans the next batch. The ledger is read when planning, after the batches before have been recorded.
    const next = this.readChangesPage(d, position.cursor, true);
    next.catch(() => undefined); // consumed (and its error surfaced) by the next planChanges, or dropped
    d.prefetch = { cursor: position.cursor, page: next };
    const payload = await this.plan(d, page.intents, overlay, false, page.profiles);
    return {
      id: randomUUID(),
      kind: 'write',
      payload,
      cursorTo: position.cursor,
      session: null,
      changes: page.changes,
    };
  }

  /** The change log's page after `cursor`: the one read ahead when it starts there, else read now. */
  private changesPage(d: Delivery, cursor: number): Promise<ChangesPage> {
    const prefetched = d.prefetch;
    d.prefetch = undefined;
    if (prefetched?.cursor === cursor) return prefetched.page;
    return this.readChangesPage(d, cursor, false);
  }

  private async readChangesPage(d: Delivery, cursor: number, withProfiles: boolean): Promise<ChangesPage> {
    const changes = await this.changeLog.steps(d.activation.audienceId, cursor, d.maxItems);
    const intents = new Map<string, Intent>();
    for (const change of changes) {
      intents.delete(change.profileId);
      intents.set(change.profileId, change.change === 'entered' ? PRESENT : LEFT);
    }
    const page: ChangesPage = {
      changes: changes.length,
      cursorTo: changes.length > 0 ? changes[changes.length - 1].cursor : cursor,
      intents,
    };
    if (withProfiles && changes.length > 0) {
      page.profiles = this.readProfiles(intents);
      page.profiles.catch(() => undefined); // awaited by plan, which surfaces its error
    }
    return page;
  }

  /** The snapshots of the members an audience wants, and which of them are frozen. */
  private readProfiles(intents: Map<string, Intent>): Promise<ProfileReads> {
    const wanted: string[] = [];
    for (const [id, intent] of intents) if (intent.present) wanted.push(id);
    return Promise.all([this.repository.profileSnapshots(wanted, Date.now()), this.repository.frozenAmong(wanted)]);
  }

  private async planRechecks(
    d: Delivery,
    position: Position,
    overlay: Map<string, LedgerView>,
  ): Promise<Omit<Planned, 'cursorFrom' | 'mirrorFrom' | 'recheckFrom'> | undefined> {
    const rechecks = await this.repository.rechecks(d.activation.id, d.maxItems, position.recheckAfter);
    if (rechecks.length === 0) return undefined;
    position.recheckAfter = rechecks[rechecks.length - 1].profileId;
    const ids = rechecks.map((r) => r.profileId);
    const members = await this.repository.audienceMembersAmong(d.activation.audienceId, ids);
    const intents = new Map<string, Intent>();
    for (const r of rechecks) {
      intents.set(
        r.profileId,
        r.removeReason !== null
          ? { present: false, reason: r.removeReason }
          : members.has(r.profileId)
            ? PRESENT
            : LEFT,
      );
    }
    const payload = await this.plan(d, intents, overlay);
    payload.rechecks = ids;
    return { id: randomUUID(), kind: 'write', payload, cursorTo: null, session: null, changes: 0 };
  }

  /** One batch of a full replace: the audience's members in profile id order, the session's next batch number. */
  private async planMirror(
    d: Delivery,
    position: Position,
    overlay: Map<string, LedgerView>,
  ): Promise<Omit<Planned, 'cursorFrom' | 'mirrorFrom' | 'recheckFrom'> | undefined> {
    const mirror = position.mirror!;
    const page = await this.changeLog
      .members(d.activation.audienceId, d.maxItems + 1, mirror.afterProfileId)
      .catch((error: unknown) => {
        if (error instanceof AudienceNotFoundError) return [];
        throw error;
      });
    const last = page.length <= d.maxItems;
    const members = page.slice(0, d.maxItems);
    const intents = new Map<string, Intent>(members.map((m) => [m.profileId, PRESENT]));
    const planned = await this.plan(d, intents, overlay, true);
    const next: MirrorState = {
      ...mirror,
      batchSeq: mirror.batchSeq + 1,
      afterProfileId: members.at(-1)?.profileId ?? mirror.afterProfileId,
    };
    position.mirror = last ? null : next;
    if (last) position.cursor = mirror.cursor;
    planned.replace = {
      sessionId: mirror.sessionId,
      batchSeq: next.batchSeq,
      last,
      ...(mirror.estimatedTotal !== undefined ? { estimatedTotal: mirror.estimatedTotal } : {}),
    };
    return {
      id: randomUUID(),
      kind: 'replace',
      payload: planned,
      cursorTo: last ? mirror.cursor : null,
      session: mirror.sessionId,
      mirror: last ? null : next,
      changes: 0,
    };
  }

  /** Deleting: removals of every member the platform holds, from the items it received. */
  private async planRemoveAll(
    d: Delivery,
    position: Position,
  ): Promise<Omit<Planned, 'cursorFrom' | 'mirrorFrom' | 'recheckFrom'> | undefined> {
    const held = await this.repository.heldPage(d.activation.id, d.maxItems, position.heldAfter);
    if (held.length === 0) return undefined;
    position.heldAfter = held[held.length - 1].profileId;
    const reason =
      d.activation.error?.type === 'audience-deleted' ? 'the audience was deleted' : 'the activation was deleted';
    return {
      id: randomUUID(),
      kind: 'write',
      payload: {
        adds: [],
        removes: held.map((m) => ({ profileId: m.profileId, item: m.item, fingerprints: [], reason })),
        notSendable: [],
        closed: [],
        rechecks: [],
      },
      cursorTo: null,
      session: null,
      changes: 0,
    };
  }

  /** Reads the ledger and the profiles of the batch and plans it (see `planBatch`), yielding between slices. */
  private async plan(
    d: Delivery,
    intents: Map<string, Intent>,
    overlay: Map<string, LedgerView>,
    mirror = false,
    profileReads?: Promise<ProfileReads>,
  ): Promise<BatchPayload> {
    const ids = [...intents.keys()];
    const [ledger, [snapshots, frozen]] = await Promise.all([
      this.repository.ledgerViews(d.activation.id, ids),
      profileReads ?? this.readProfiles(intents),
    ]);
    const profiles = new Map<string, ProfileSnapshot>();
    for (const snapshot of snapshots) profiles.set(snapshot.id, snapshot as ProfileSnapshot);
    // Suppressed (frozen) profiles are sent nowhere: removed where held, else recorded as not sendable.
    for (const id of frozen) {
      const profile = profiles.get(id);
      if (profile) profile.frozen = true;
    }
    // A replace sends every member again, whatever the platform already holds.
    const view = (id: string): LedgerView | undefined => (mirror ? undefined : (overlay.get(id) ?? ledger.get(id)));
    const payload = await planBatchYielding(intents, view, profiles, d.context);
    if (mirror) {
      // Members the platform held and can no longer have: the replace drops them; the ledger says why.
      for (const m of payload.notSendable) {
        const row = ledger.get(m.profileId);
        if (row && (row.state === 'held' || row.state === 'removing')) m.item = row.item;
      }
    }
    return payload;
  }

  /** Plans a stored batch again from its members (see `withoutItems`), under the same id. */
  private async replan(d: Delivery, kind: 'write' | 'replace', stored: BatchPayload): Promise<BatchPayload> {
    const intents = new Map<string, Intent>();
    for (const m of [...stored.adds, ...stored.notSendable]) intents.set(m.profileId, PRESENT);
    for (const m of [...stored.removes, ...stored.closed])
      intents.set(m.profileId, { present: false, reason: m.reason ?? 'left the audience' });
    const payload = await this.plan(d, intents, new Map(), kind === 'replace');
    payload.rechecks = stored.rechecks;
    if (stored.replace) payload.replace = stored.replace;
    return payload;
  }

  /** Creates or checks the platform's audience the first time, so writes have its id. */
  private async ensurePlatformAudience(d: Delivery): Promise<boolean> {
    if (d.activation.externalId) return true;
    const { definition, ctx } = d.destination;
    if (!definition.ensureAudience) {
      await this.stop(
        d.activation,
        'config',
        `${d.destination.connector} cannot create audiences: give the platform's audience id as externalId (PATCH /v1/activations/${d.activation.id})`,
      );
      return false;
    }
    try {
      const { externalId } = await definition.ensureAudience(ctx, audienceRef(d));
      await this.repository.update(d.activation.id, { externalId });
      d.activation = { ...d.activation, externalId };
      return true;
    } catch (error) {
      if (error instanceof ConnectorError && error.failureType === 'transient') {
        await this.repository.update(d.activation.id, {
          nextAttemptAt: new Date(Date.now() + (error.details.retryAfterMs ?? RETRY_BASE_MS)),
        });
        return false;
      }
      await this.stop(d.activation, 'config', `creating the platform's audience failed: ${messageOf(error)}`);
      return false;
    }
  }

  /** Sends one stored batch and records the answer. */
  private async send(d: Delivery, batch: Sending): Promise<SendOutcome> {
    return this.handleWriteResult(d, batch, await this.transmit(d, batch));
  }

  /** Sends one stored batch to the platform; never throws (a failure becomes one verdict per item). */
  private async transmit(d: Delivery, batch: Sending): Promise<Answer> {
    const { definition, ctx } = d.destination;
    const audience = { ...audienceRef(d), externalId: d.activation.externalId! };
    const { adds, removes } = batch.payload;
    let answer: Answer;
    try {
      if (batch.kind === 'replace') {
        const replace = batch.payload.replace!;
        if (!definition.replace) throw new Error(`${d.destination.connector} has no replace (mirror) capability`);
        const replaced =
          adds.length === 0 && !replace.last
            ? { verdicts: [], requests: [] }
            : await definition.replace(ctx, audience, { ...replace, items: adds.map((m) => m.item) });
        answer = { adds: replaced.verdicts, removes: [], requests: replaced.requests ?? [] };
      } else if (adds.length + removes.length === 0) {
        answer = { adds: [], removes: [], requests: [] };
      } else {
        const written = await definition.write(ctx, audience, {
          adds: adds.map((m) => m.item),
          removes: removes.map((m) => m.item),
        });
        answer = {
          adds: written.adds,
          removes: written.removes,
          requests: written.requests ?? [],
          written: written.written,
        };
      }
    } catch (error) {
      answer = {
        adds: verdictsForFailure(error, adds.length),
        removes: verdictsForFailure(error, removes.length),
        requests: [],
      };
    }
    return answer;
  }

  /**
   * The one place a write's answer is handled: per member verdicts become ledger rows (held, removed, invalid),
   * retries become a batch of their own, configuration errors stop the activation, and after the retry budget
   * the members go to the dead letters. Then metrics, the run's counters and the write hooks.
   */
  private async handleWriteResult(
    d: Delivery,
    batch: Sending,
    answer: Answer,
    previous?: Promise<unknown>,
  ): Promise<SendOutcome> {
    const { payload } = batch;
    const members: MemberOutcome[] = [];
    const retry = emptyBatchPayload();
    let accepted = 0;
    let invalid = 0;
    let retryMs = 0;
    let configError: string | undefined;
    let lastError: string | undefined;
    const verdictOf = (list: Verdict[], i: number): Verdict =>
      list[i] ?? { abort: 'the connector gave no verdict for this item', failureType: 'system' };

    const sort = (m: PlannedMember, verdict: Verdict, operation: 'add' | 'remove', pending: PlannedMember[]) => {
      if ('ok' in verdict) {
        accepted++;
        members.push(
          operation === 'add'
            ? {
                profileId: m.profileId,
                state: 'held',
                event: 'add',
                item: ledgerItem(m.item),
                fingerprints: m.fingerprints,
                reason: null,
              }
            : { profileId: m.profileId, state: 'removed', event: 'remove', reason: m.reason ?? null },
        );
      } else if ('retryInMs' in verdict) {
        pending.push(m);
        retryMs = Math.max(retryMs, verdict.retryInMs);
        lastError = verdict.reason;
      } else if (verdict.failureType === 'invalid') {
        invalid++;
        members.push(
          operation === 'add'
            ? { profileId: m.profileId, state: 'invalid', fingerprints: m.fingerprints, reason: verdict.abort }
            : {
                profileId: m.profileId,
                state: 'removed',
                event: 'remove',
                reason: `the platform refused the removal: ${verdict.abort}`,
              },
        );
      } else if (verdict.failureType === 'config') {
        pending.push(m);
        configError = verdict.abort;
      } else {
        pending.push(m);
        lastError = verdict.abort;
      }
    };
    payload.adds.forEach((m, i) => sort(m, verdictOf(answer.adds, i), 'add', retry.adds));
    payload.removes.forEach((m, i) => sort(m, verdictOf(answer.removes, i), 'remove', retry.removes));
    for (const m of payload.notSendable) {
      members.push({
        profileId: m.profileId,
        state: 'not_sendable',
        fingerprints: m.fingerprints,
        reason: m.reason ?? null,
      });
    }
    for (const m of payload.closed)
      members.push({ profileId: m.profileId, state: 'removed', reason: m.reason ?? null });

    const pendingCount = retry.adds.length + retry.removes.length;
    const attempts = batch.attempts + 1;
    let failed = 0;
    const record: Parameters<ActivationRepository['recordBatch']>[0] = {
      activationId: d.activation.id,
      batchId: batch.id,
      state: 'confirmed',
      accepted,
      invalid,
      failed,
      answer: answer.requests,
      members,
      cursorTo: batch.cursorTo,
      rechecks: payload.rechecks,
    };
    let result: SendOutcome = { state: 'confirmed' };

    if (batch.kind === 'replace' && (pendingCount > 0 || configError)) {
      // A replace batch is sent again whole, under the same batch number, or the session is abandoned.
      const until = new Date(Date.now() + Math.max(retryMs, RETRY_BASE_MS * 2 ** (attempts - 1)));
      if (configError) {
        Object.assign(record, {
          state: 'blocked',
          keepPayload: true,
          attempts,
          members: [],
          cursorTo: null,
          error: configError,
        });
        d.stopped = configError;
        result = { state: 'stopped' };
      } else if (attempts < MAX_BATCH_ATTEMPTS) {
        Object.assign(record, {
          state: 'retrying',
          keepPayload: true,
          attempts,
          nextAttemptAt: until,
          members: [],
          cursorTo: null,
          error: lastError ?? null,
        });
        result = { state: 'waiting', until };
      } else {
        failed = pendingCount;
        Object.assign(record, {
          state: 'dead',
          attempts,
          failed,
          members: [],
          cursorTo: null,
          mirror: null,
          dead: {
            profileIds: payload.adds.map((m) => m.profileId),
            operation: 'replace',
            error: lastError ?? 'failed',
            attempts,
          },
        });
      }
    } else {
      if (batch.kind === 'replace' && payload.replace?.last) {
        record.mirror = null;
        record.finishedSession = batch.session ?? undefined;
      }
      if (configError) {
        record.retry = {
          id: randomUUID(),
          payload: withoutItems(retry),
          attempts: 0,
          nextAttemptAt: null,
          state: 'blocked',
          error: configError,
        };
        d.stopped = configError;
        result = { state: 'stopped' };
      } else if (pendingCount > 0 && attempts < MAX_BATCH_ATTEMPTS) {
        const until = new Date(Date.now() + Math.max(retryMs, RETRY_BASE_MS * 2 ** (attempts - 1)));
        record.retry = {
          id: randomUUID(),
          payload: withoutItems(retry),
          attempts,
          nextAttemptAt: until,
          state: 'retrying',
          error: lastError ?? null,
        };
        result = { state: 'waiting', until };
      } else if (pendingCount > 0) {
        failed = pendingCount;
        record.failed = failed;
        const error = lastError ?? 'failed';
        for (const m of retry.adds)
          members.push({ profileId: m.profileId, state: 'failed', fingerprints: m.fingerprints, reason: error });
        for (const m of retry.removes) members.push({ profileId: m.profileId, state: 'removing', reason: error });
        record.dead = {
          profileIds: [...retry.adds, ...retry.removes].map((m) => m.profileId),
          operation:
            retry.adds.length > 0 && retry.removes.length > 0 ? 'write' : retry.adds.length > 0 ? 'add' : 'remove',
          error,
          attempts,
        };
      }
    }

    const counters: RunCounters = {
      changes: batch.changes,
      adds: payload.adds.length,
      removes: payload.removes.length,
      accepted,
      invalid,
      failed,
      notSendable: payload.notSendable.length,
      notSendableReasons: {},
    };
    for (const m of payload.notSendable) {
      const reason = m.reason ?? 'unknown';
      counters.notSendableReasons[reason] = (counters.notSendableReasons[reason] ?? 0) + 1;
    }
    if (d.runId !== undefined) record.run = { id: d.runId, counters };
    // Recorded already (this worker lost its lease, and the new holder sent the batch again): that record stands.
    if (!(await this.repository.recordBatch(record, previous))) return result;
    if (d.stopped) await this.stop(d.activation, 'config', d.stopped);
    this.count(d, counters, record.state, batch.kind);
    await this.hooks.written({
      activationId: d.activation.id,
      audienceId: d.activation.audienceId,
      destinationId: d.activation.destinationId,
      connector: d.destination.connector,
      batchId: batch.id,
      kind: batch.kind,
      adds: payload.adds.map((m, i) => ({ profileId: m.profileId, verdict: verdictOf(answer.adds, i) })),
      removes: payload.removes.map((m, i) => ({ profileId: m.profileId, verdict: verdictOf(answer.removes, i) })),
      requests: answer.requests,
      written: answer.written,
    });
    return result;
  }

  private count(d: Delivery, c: RunCounters, state: BatchState, kind: 'write' | 'replace'): void {
    const counters = d.counters;
    counters.changes += c.changes;
    counters.adds += c.adds;
    counters.removes += c.removes;
    counters.accepted += c.accepted;
    counters.invalid += c.invalid;
    counters.failed += c.failed;
    counters.notSendable += c.notSendable;
    const labels = { destination: d.activation.destinationId, connector: d.destination.connector };
    const addOperation = kind === 'replace' ? 'replace' : 'add';
    if (c.adds) this.metrics.items.inc({ ...labels, operation: addOperation, outcome: 'sent' }, c.adds);
    if (c.removes) this.metrics.items.inc({ ...labels, operation: 'remove', outcome: 'sent' }, c.removes);
    if (c.accepted) this.metrics.items.inc({ ...labels, operation: 'any', outcome: 'accepted' }, c.accepted);
    if (c.invalid) this.metrics.items.inc({ ...labels, operation: 'any', outcome: 'invalid' }, c.invalid);
    if (c.failed) this.metrics.items.inc({ ...labels, operation: 'any', outcome: 'failed' }, c.failed);
    if (c.notSendable) this.metrics.items.inc({ ...labels, operation: 'any', outcome: 'not_sendable' }, c.notSendable);
    this.metrics.batches.inc({ ...labels, outcome: state });
  }

  private async startRun(d: Delivery, trigger: string): Promise<void> {
    if (d.runId === undefined) d.runId = await this.repository.startRun(d.activation.id, trigger);
  }

  private async finishRun(d: Delivery): Promise<void> {
    const c = d.counters;
    const status = d.stopped ? 'failed' : c.invalid + c.failed > 0 ? 'partial' : 'succeeded';
    await this.repository.finishRun(d.runId!, status, d.stopped ?? null);
    this.metrics.runs.inc({ destination: d.activation.destinationId, connector: d.destination.connector, status });
  }

  /** Stops the activation until an admin resumes it (a configuration error: token, permission, deleted audience). */
  private async stop(activation: ActivationRow, type: string, message: string): Promise<void> {
    this.logger.warn(`activation ${activation.id} stopped: ${message}`);
    await this.repository.update(activation.id, {
      ...(activation.status === 'deleting' ? {} : { status: 'stopped' }),
      error: { type, message, at: new Date().toISOString() },
      ...(activation.status === 'deleting' ? { nextAttemptAt: new Date(Date.now() + 3_600_000) } : {}),
    });
  }

  /** A new replace session id (Meta takes a 64-bit integer; kept within JavaScript's safe integers). */
  static newSessionId(): number {
    return randomInt(1, 2 ** 48);
  }
}
