import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ActivationHoldings } from '@plexus/activation';

/**
 * Finds activation's {@link ActivationHoldings} wherever the application registers it. Without one, no
 * destination has ever been sent anything, so there is nothing to remove: the destination steps say so.
 */
@Injectable()
export class HoldingsLocator {
  constructor(
    @Optional() private readonly moduleRef?: ModuleRef,
    @Optional() @Inject(ActivationHoldings) private readonly injected?: ActivationHoldings,
  ) {}

  /** Wires a given implementation (tests, tools). */
  static of(holdings: ActivationHoldings | undefined): HoldingsLocator {
    return new HoldingsLocator(undefined, holdings);
  }

  get(): ActivationHoldings | undefined {
    if (this.injected) return this.injected;
    if (!this.moduleRef) return undefined;
    try {
      return this.moduleRef.get(ActivationHoldings, { strict: false });
    } catch {
      return undefined;
    }
  }
}
