import { Injectable, Logger } from '@nestjs/common';
import type { RequestReport, Verdict, WrittenRecord } from '@plexus/sdk';

/** One answered write or replace of a batch, as the engine recorded it. */
export interface WriteEvent {
  activationId: string;
  audienceId: string;
  destinationId: string;
  connector: string;
  batchId: string;
  kind: 'write' | 'replace';
  adds: Array<{ profileId: string; verdict: Verdict }>;
  removes: Array<{ profileId: string; verdict: Verdict }>;
  requests: RequestReport[];
  /** What the destination wrote into records a source also reads (a CRM), for loop prevention. */
  written?: WrittenRecord[];
}

export type WriteListener = (event: WriteEvent) => Promise<void>;

/**
 * Called once after each write to a destination is recorded — the one place a write's result leaves the engine.
 * A destination that writes back (a CRM storing the records it created) subscribes here. Listeners run after the
 * ledger commits; one that fails is logged and does not undo the write.
 */
@Injectable()
export class ActivationWriteHooks {
  private readonly logger = new Logger('ActivationWriteHooks');
  private readonly listeners: WriteListener[] = [];

  subscribe(listener: WriteListener): void {
    this.listeners.push(listener);
  }

  async written(event: WriteEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.logger.error(`write listener failed for batch ${event.batchId}: ${(error as Error).message}`);
      }
    }
  }
}
