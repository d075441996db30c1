import { hash, randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { WriteKeyRepository, type WriteKeyInfo, type WriteKeyOwner } from '@plexus/storage';
import type { PushCredentialIssuer } from '@plexus/connectors';
import { InvalidationBus } from '@plexus/queue';

/** `wk_` + 24 random bytes (192 bits) in base64url: long enough that a fast hash is a safe way to store it. */
export function generateWriteKey(): string {
  return `wk_${randomBytes(24).toString('base64url')}`;
}

export function hashWriteKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/**
 * How long a looked-up key is trusted without asking the database again. Revocations do not wait for it: they
 * clear the cache of every process through the {@link InvalidationBus}.
 */
const CACHE_MS = 10_000;
const INVALIDATION_TOPIC = 'write-keys';
const CACHE_MAX = 10_000;

/**
 * Write keys of push sources: issued when a source is created, rotated on request, looked up on every
 * tracking request (through a short cache, so the hot path does not query the database per request).
 */
@Injectable()
export class WriteKeyService implements PushCredentialIssuer, OnModuleInit {
  private readonly logger = new Logger('WriteKeys');
  private readonly cache = new Map<string, { owner: WriteKeyOwner | undefined; until: number }>();
  /** Bumped by every invalidation: a lookup that started before one must not refill the cache. */
  private generation = 0;

  constructor(
    private readonly repository: WriteKeyRepository,
    private readonly invalidations: InvalidationBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.invalidations.subscribe(INVALIDATION_TOPIC, () => this.forgetCached());
  }

  private forgetCached(): void {
    this.generation++;
    this.cache.clear();
  }

  /** Clears every process's cache of looked-up keys (after a rotation or a deletion). */
  private async invalidate(): Promise<void> {
    try {
      await this.invalidations.publish(INVALIDATION_TOPIC);
    } catch (error) {
      // This process's cache is cleared already; the others fall back to the cache's lifetime.
      this.logger.error(`could not tell other processes about a write key change: ${(error as Error).message}`);
    }
  }

  async revokeWriteKeys(_sourceId: string): Promise<void> {
    // The keys are gone with the source (on delete cascade): only caches still know them.
    await this.invalidate();
  }

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
    await this.invalidate();
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
    const generation = this.generation;
    const owner = await this.repository.owner(keyHash);
    if (generation !== this.generation) return owner;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    // Unknown keys are remembered briefly too, so a client with a bad key cannot make every request a query.
    this.cache.set(keyHash, { owner, until: now + (owner ? CACHE_MS : 1000) });
    return owner;
  }
}
