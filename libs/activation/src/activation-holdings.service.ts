import { Injectable } from '@nestjs/common';
import { ActivationRepository } from '@plexus/storage';
import { ActivationScheduler } from './activation-scheduler.service.js';
import { DestinationAccess } from './destination-access.js';
import {
  ActivationHoldings,
  type DestinationErasure,
  type DestinationHolding,
  type RemovalReason,
} from './holdings.js';

/** {@link ActivationHoldings} over the activation ledger. */
@Injectable()
export class LedgerActivationHoldings extends ActivationHoldings {
  constructor(
    private readonly repository: ActivationRepository,
    private readonly destinations: DestinationAccess,
    private readonly scheduler: ActivationScheduler,
  ) {
    super();
  }

  async heldBy(profileId: string): Promise<DestinationHolding[]> {
    const rows = await this.repository.holdings(profileId);
    const connectors = new Map<string, string>();
    for (const id of new Set(rows.map((r) => r.destinationId)))
      connectors.set(id, (await this.destinations.info(id))?.connector ?? 'unknown');
    return rows.map((r) => ({
      activationId: r.activationId,
      audienceId: r.audienceId,
      destinationId: r.destinationId,
      connector: connectors.get(r.destinationId)!,
      state: r.state === 'removing' || r.removalPending ? 'removing' : 'held',
      ...(r.state === 'removing' && r.reason && !r.removalPending ? { lastError: r.reason } : {}),
    }));
  }

  async removeEverywhere(profileIds: string[], reason: RemovalReason): Promise<void> {
    const queued = await this.repository.forceRemoval(profileIds, reason);
    if (queued === 0) return;
    for (const id of profileIds) {
      for (const holding of await this.repository.holdings(id)) {
        await this.scheduler.kick({ id: holding.activationId, destinationId: holding.destinationId });
      }
    }
  }

  async recheck(profileIds: string[]): Promise<number> {
    const activations = await this.repository.recheckEverywhere(profileIds);
    for (const activation of activations) await this.scheduler.kick(activation);
    return activations.length;
  }

  async deleteAtDestinations(profileId: string): Promise<DestinationErasure[]> {
    const rows = (await this.repository.ledgerOf(profileId)).filter((r) => r.item !== null && r.addedAt !== null);
    const byActivation = new Map<string, unknown[]>();
    for (const r of rows) byActivation.set(r.activationId, [...(byActivation.get(r.activationId) ?? []), r.item]);
    const byDestination = new Map<string, unknown[]>();
    for (const [activationId, items] of byActivation) {
      const activation = await this.repository.get(activationId);
      if (!activation) continue;
      byDestination.set(activation.destinationId, [...(byDestination.get(activation.destinationId) ?? []), ...items]);
    }
    const results: DestinationErasure[] = [];
    for (const [destinationId, items] of byDestination) {
      const controller = new AbortController();
      try {
        const destination = await this.destinations.open(destinationId, controller.signal);
        if (!destination) {
          results.push({ destinationId, connector: 'unknown', status: 'failed', error: 'the destination was deleted' });
          continue;
        }
        if (!destination.definition.delete) {
          results.push({ destinationId, connector: destination.connector, status: 'unsupported' });
          continue;
        }
        const { verdicts } = await destination.definition.delete(destination.ctx, items);
        const refused = verdicts.find((v) => !('ok' in v));
        results.push(
          refused
            ? {
                destinationId,
                connector: destination.connector,
                status: 'failed',
                error: 'abort' in refused ? refused.abort : 'retryInMs' in refused ? refused.reason : 'refused',
              }
            : { destinationId, connector: destination.connector, status: 'done' },
        );
      } catch (error) {
        results.push({ destinationId, connector: 'unknown', status: 'failed', error: (error as Error).message });
      } finally {
        controller.abort();
      }
    }
    return results;
  }

  eraseMember(profileId: string): Promise<number> {
    return this.repository.eraseMember(profileId);
  }

  async pruneLedger(before: Date, batchSize: number): Promise<number> {
    let removed = 0;
    let after: { activationId: string; profileId: string } | undefined;
    do {
      const batch = await this.repository.pruneLedgerBatch(before, batchSize, after);
      removed += batch.removed;
      after = batch.last;
    } while (after);
    return removed;
  }
}
