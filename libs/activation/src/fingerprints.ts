import { createHmac } from 'node:crypto';

/**
 * Keyed fingerprints of identifiers for the activation ledger: `HMAC-SHA256(key, "type:value")` in hex, over the
 * value as the hub stores it (normalised). The ledger keeps these instead of clear values, so `?identifier=email:x`
 * can be answered while nobody reading the database can test guesses without the key.
 */
export class IdentifierFingerprints {
  constructor(private readonly key: Buffer) {}

  of(type: string, value: string): string {
    return createHmac('sha256', this.key).update(`${type}:${value}`).digest('hex');
  }
}
