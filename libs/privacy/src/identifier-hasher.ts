import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SecretBox } from '@plexus/storage';

/** The HKDF purpose of the suppression key: changing it would orphan every stored hash. */
export const SUPPRESSION_KEY_PURPOSE = 'plexus:suppression:v1';

/**
 * Keyed hashes of identifiers for the suppression list: HMAC-SHA256 under a key derived from the master key
 * (`PLEXUS_MASTER_KEY`), so the list holds no identifier and cannot be reversed by hashing guesses without the
 * server's key. A plain SHA-256 would not do: an email's SHA-256 is exactly what ad platforms match on.
 */
@Injectable()
export class IdentifierHasher {
  private readonly key: Buffer;

  constructor(box: SecretBox) {
    this.key = box.deriveKey(SUPPRESSION_KEY_PURPOSE);
  }

  /** `type` and `value` as normalised by ingestion. */
  hash(type: string, value: string): string {
    return createHmac('sha256', this.key).update(type).update('\u0000').update(value).digest('base64url');
  }
}
