import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Environment } from '@plexus/config';
import { createRedis } from './redis.js';

type Handler = (message: string) => void;

/**
 * Tells every Plexus process sharing Redis that something it caches changed (a revoked write key): Redis
 * pub/sub on `<QUEUE_PREFIX>:invalidate:<topic>`. Publishing also runs this process's handlers at once, so the
 * caller's own process never waits for the round trip. A subscriber connection is opened on the first subscribe.
 */
@Injectable()
export class InvalidationBus implements OnApplicationShutdown {
  private readonly logger = new Logger('Invalidation');
  private readonly handlers = new Map<string, Handler[]>();
  private publisher?: Redis;
  private subscriber?: Redis;

  constructor(private readonly env: Environment) {}

  private channel(topic: string): string {
    return `${this.env.QUEUE_PREFIX}:invalidate:${topic}`;
  }

  /** Runs `handler` for every message published on `topic`, by any process. Resolves once subscribed. */
  async subscribe(topic: string, handler: Handler): Promise<void> {
    const channel = this.channel(topic);
    const list = this.handlers.get(channel);
    if (list) {
      list.push(handler);
      return;
    }
    this.handlers.set(channel, [handler]);
    if (!this.subscriber) {
      const subscriber = createRedis(this.env.REDIS_URL);
      subscriber.on('error', (error) => this.logger.error(`redis: ${error.message}`));
      subscriber.on('message', (from: string, message: string) => this.deliver(from, message));
      this.subscriber = subscriber;
    }
    await this.subscriber.subscribe(channel);
  }

  /** Runs this process's handlers now, then tells the other processes. */
  async publish(topic: string, message = ''): Promise<void> {
    const channel = this.channel(topic);
    this.deliver(channel, message);
    this.publisher ??= createRedis(this.env.REDIS_URL);
    await this.publisher.publish(channel, message);
  }

  private deliver(channel: string, message: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(message);
      } catch (error) {
        this.logger.error(`handler of ${channel} failed: ${(error as Error).message}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const client of [this.subscriber, this.publisher])
      if (client && client.status !== 'end') await client.quit().catch(() => client.disconnect());
  }
}
