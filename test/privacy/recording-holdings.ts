import {
  ActivationHoldings,
  type DestinationErasure,
  type DestinationHolding,
  type RemovalReason,
} from '@plexus/activation';

/**
 * A test double of activation's port (activation is another part of the hub, built apart): it holds what the
 * test says each profile was sent to, records every call, and confirms a removal only on the `confirmAfter`-th
 * look after it was asked for — so privacy's waiting and retrying is exercised, as with a slow platform.
 */
export class RecordingHoldings extends ActivationHoldings {
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  private readonly held = new Map<string, DestinationHolding[]>();
  private readonly removing = new Map<string, number>();
  private readonly ledgerRows = new Map<string, number>();
  /** Every destination a profile was ever sent to (kept after removal, as the ledger keeps what was sent). */
  private readonly sent = new Map<string, DestinationHolding[]>();

  constructor(
    private readonly confirmAfter = 1,
    /** Connectors with a delete capability. */
    private readonly deleters: string[] = [],
  ) {
    super();
  }

  /** The test's setup: `profileId` was sent to these destinations (`ledgerRows` member rows). */
  hold(profileId: string, holdings: Array<Omit<DestinationHolding, 'state'>>, ledgerRows = holdings.length): void {
    this.held.set(
      profileId,
      holdings.map((h) => ({ ...h, state: 'held' })),
    );
    this.sent.set(
      profileId,
      holdings.map((h) => ({ ...h, state: 'held' })),
    );
    this.ledgerRows.set(profileId, ledgerRows);
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  heldBy(profileId: string): Promise<DestinationHolding[]> {
    this.calls.push({ method: 'heldBy', args: [profileId] });
    const looks = this.removing.get(profileId);
    if (looks !== undefined) {
      if (looks + 1 >= this.confirmAfter) {
        this.held.delete(profileId);
        this.removing.delete(profileId);
      } else this.removing.set(profileId, looks + 1);
    }
    return Promise.resolve(this.held.get(profileId) ?? []);
  }

  removeEverywhere(profileIds: string[], reason: RemovalReason): Promise<void> {
    this.calls.push({ method: 'removeEverywhere', args: [profileIds, reason] });
    for (const id of profileIds) {
      const list = this.held.get(id);
      if (!list || this.removing.has(id)) continue;
      for (const h of list) {
        h.state = 'removing';
        h.lastError = 'platform busy (429), retrying';
      }
      this.removing.set(id, 0);
    }
    return Promise.resolve();
  }

  recheck(profileIds: string[]): Promise<number> {
    this.calls.push({ method: 'recheck', args: [profileIds] });
    return Promise.resolve(profileIds.reduce((n, id) => n + (this.held.get(id)?.length ?? 0), 0));
  }

  deleteAtDestinations(profileId: string): Promise<DestinationErasure[]> {
    this.calls.push({ method: 'deleteAtDestinations', args: [profileId] });
    const sent = this.sent.get(profileId) ?? [];
    return Promise.resolve(
      sent.map((h) => ({
        destinationId: h.destinationId,
        connector: h.connector,
        status: this.deleters.includes(h.connector) ? 'done' : 'unsupported',
      })),
    );
  }

  pruneLedger(before: Date, batchSize: number): Promise<number> {
    this.calls.push({ method: 'pruneLedger', args: [before, batchSize] });
    return Promise.resolve(0);
  }

  eraseMember(profileId: string): Promise<number> {
    this.calls.push({ method: 'eraseMember', args: [profileId] });
    const rows = this.ledgerRows.get(profileId) ?? 0;
    this.ledgerRows.delete(profileId);
    return Promise.resolve(rows);
  }
}
