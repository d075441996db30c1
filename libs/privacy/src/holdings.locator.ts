import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ActivationHoldings } from '@plexus/activation';

/**
 * Finds activation's {@link ActivationHoldings} wherever the application registers it. Without one, no
 * destination has ever been sent anything, so there is nothing to remove: the destination steps say so.
 */
/**
 * Token under which an application may register a substitute for activation's holdings as privacy sees them
 * (the privacy tests register a recording double of the platforms this way); unset in production.
 */
export const PRIVACY_HOLDINGS = Symbol('PrivacyHoldings');

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
    if (this.moduleRef) {
      try {
        // A substitute registered anywhere in the application (a test double of the destinations) comes first.
        return this.moduleRef.get<ActivationHoldings>(PRIVACY_HOLDINGS, { strict: false });
      } catch {
        /* none: activation's own */
      }
    }
    if (this.injected) return this.injected;
    if (!this.moduleRef) return undefined;
    try {
      return this.moduleRef.get(ActivationHoldings, { strict: false });
    } catch {
      return undefined;
    }
  }
}
