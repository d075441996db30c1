import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Metrics } from '@plexus/observability';
import { QUEUE_NAMES, QueueService } from '@plexus/queue';
import { Database } from '@plexus/storage';
import { Public, PublicIf } from '../auth/public.decorator.js';
import { RequireScopes } from '../auth/scopes.js';
import { object, oneOfStrings, Returns, string } from '../openapi/response-schema.js';

@ApiTags('operations')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly database: Database,
    private readonly queues: QueueService,
    private readonly metrics: Metrics,
  ) {
    this.metrics.gauge('plexus_queue_jobs', 'Jobs per queue and state', ['queue', 'state'], async (gauge) => {
      const counts = await this.queues.counts();
      for (const queue of QUEUE_NAMES) {
        for (const [state, n] of Object.entries(counts[queue])) gauge.set({ queue, state }, n);
      }
    });
  }

  /** Liveness: the process answers. */
  @Get('health')
  @Returns(object({ status: oneOfStrings(['ok']) }))
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Redis and the database both answer. */
  @Get('ready')
  @Returns(object({ status: oneOfStrings(['ready']), database: string('pglite or postgres'), redis: string() }))
  async ready(): Promise<{ status: 'ready'; database: string; redis: string }> {
    const [database, redis] = await Promise.all([
      this.database.ping(),
      this.queues.redis.ping().then(
        (r) => r === 'PONG',
        () => false,
      ),
    ]);
    if (!database || !redis) {
      throw new ServiceUnavailableException({
        message: `Not ready: ${[!database && 'database', !redis && 'redis'].filter(Boolean).join(' and ')} unreachable`,
        details: { database: database ? 'up' : 'down', redis: redis ? 'up' : 'down' },
      });
    }
    return { status: 'ready', database: this.database.kind, redis: 'up' };
  }

  /** Prometheus metrics: needs a `read` key (scrape with `authorization: Bearer …`) unless METRICS_PUBLIC=true. */
  @Get('metrics')
  @PublicIf((env) => env.METRICS_PUBLIC, 'METRICS_PUBLIC=true')
  @RequireScopes('read')
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
