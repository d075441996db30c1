import { hash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { WriteKeyRepository, type WriteKeyInfo, type WriteKeyOwner } from '@plexus/storage';
import type { PushCredentialIssuer } from '@plexus/connectors';

/** `wk_` + 24 random bytes (192 bits) in base64url: long enough that a fast hash is a safe way to store it. */
export function generateWriteKey(): string {
  return `wk_${randomBytes(24).toString('base64url')}`;
}

export function hashWriteKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** How long a looked-up key is trusted without asking the database again (revocations take this long elsewhere). */
const CACHE_MS = 10_000;
const CACHE_MAX = 10_000;

/**
 * Write keys of push sources: issued when a source is created, rotated on request, looked up on every
 * tracking request (through a short cache, so the hot path does not query the database per request).
 */
@Injectable()
export class WriteKeyService implements PushCredentialIssuer {
  private readonly cache = new Map<string, { owner: WriteKeyOwner | undefined; until: number }>();

  constructor(private readonly repository: WriteKeyRepository) {}

  async issueWriteKey(sourceId: string): Promise<string> {
    const key = generateWriteKey();
    await this.repository.insert(sourceId, hashWriteKey(key), key.slice(0, 7));
    return key;
  }

  /** A new key; the previous ones keep working for `graceSeconds` (0: they stop now). */
  async rotate(
    sourceId: string,
    graceSeconds: number,
  ): Promise<{ writeKey: string; previousKeysValidUntil: Date | null }> {
    const key = generateWriteKey();
    const { previousValidUntil } = await this.repository.rotate(
      sourceId,
      hashWriteKey(key),
      key.slice(0, 7),
      graceSeconds,
    );
    this.cache.clear();
    return { writeKey: key, previousKeysValidUntil: previousValidUntil };
  }

  list(sourceId: string): Promise<WriteKeyInfo[]> {
    return this.repository.list(sourceId);
  }

  /** The source a key belongs to, or undefined when it is unknown, revoked or expired. */
  async authenticate(key: string): Promise<WriteKeyOwner | undefined> {
    const keyHash = hashWriteKey(key);
    const now = Date.now();
    const cached = this.cache.get(keyHash);
    if (cached && cached.until > now) return cached.owner;
    const owner = await this.repository.owner(keyHash);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    // Unknown keys are remembered briefly too, so a client with a bad key cannot make every request a query.
    this.cache.set(keyHash, { owner, until: now + (owner ? CACHE_MS : 1000) });
    return owner;
  }
}
