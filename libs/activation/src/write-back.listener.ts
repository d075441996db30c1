import { Injectable, type OnModuleInit } from '@nestjs/common';
import { WrittenValuesService } from '@plexus/identity';
import { ActivationWriteHooks } from './write-hooks.js';

/**
 * Loop prevention for destinations that write into a system a source also reads (a CRM): after each recorded
 * write, the values the destination reports as written are stored, so the next sync of that system does not read
 * them back as fresh observations.
 */
@Injectable()
export class WriteBackListener implements OnModuleInit {
  constructor(
    private readonly hooks: ActivationWriteHooks,
    private readonly writtenValues: WrittenValuesService,
  ) {}

  onModuleInit(): void {
    this.hooks.subscribe(async (event) => {
      if (event.written && event.written.length > 0) {
        await this.writtenValues.recordWrites(event.destinationId, event.written);
      }
    });
  }
}
