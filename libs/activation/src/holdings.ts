/**
 * What the rest of the hub (privacy requests, suppression, consent changes) asks of activation about one
 * person: which destinations hold them, and to take them out. Removals are built from what was sent (the
 * ledger keeps each member's items as the platform received them, hashed), so they still work once the
 * profile itself is erased or split by an unmerge.
 */
export interface DestinationHolding {
  activationId: string;
  audienceId: string;
  destinationId: string;
  /** The destination's connector id, e.g. `meta-custom-audiences`. */
  connector: string;
  /** `held`: the platform confirmed the addition; `removing`: a removal is queued or being retried. */
  state: 'held' | 'removing';
  /** The last error of a removal that is being retried. */
  lastError?: string;
}

export type RemovalReason = 'delete' | 'suppress' | 'consent' | 'retention';

export interface DestinationErasure {
  destinationId: string;
  connector: string;
  /** `unsupported`: the connector declares no `delete` capability. */
  status: 'done' | 'failed' | 'unsupported';
  error?: string;
}

export abstract class ActivationHoldings {
  /** Activations whose platform received the profile and has not confirmed its removal. */
  abstract heldBy(profileId: string): Promise<DestinationHolding[]>;

  /**
   * Queues a removal of each profile from every platform that holds it, whatever the audience now says, and
   * records `reason` in the ledger. Idempotent: a profile already being removed is not queued twice.
   */
  abstract removeEverywhere(profileIds: string[], reason: RemovalReason): Promise<void>;

  /**
   * Queues a re-check of each profile in every live activation whose audience has it or whose ledger names it, and
   * delivers those soon: each platform is then sent what the audience, the profile's consent and its suppression
   * say now — a removal after a consent revocation (reason `no consent for <purpose>`), an addition after a
   * suppression is lifted. Returns the number of activations concerned.
   */
  abstract recheck(profileIds: string[]): Promise<number>;

  /**
   * Calls `delete` on every destination that ever received the profile and whose connector declares that
   * capability (a CRM), with the items it was sent.
   */
  abstract deleteAtDestinations(profileId: string): Promise<DestinationErasure[]>;

  /**
   * Erases the ledger's member-level rows of the profile (the hashed values sent and the answers per member);
   * per-batch counts stay. Call once `heldBy` is empty. Returns the number of rows erased.
   */
  abstract eraseMember(profileId: string): Promise<number>;

  /**
   * Ledger retention: erases member rows of people no platform holds any more (removed, not sendable, invalid,
   * failed) unchanged since `before`, in batches of `batchSize` rows read; per-batch counts stay. Rows of members a
   * platform holds are kept, whatever their age. Returns the number of rows erased.
   */
  abstract pruneLedger(before: Date, batchSize: number): Promise<number>;
}
