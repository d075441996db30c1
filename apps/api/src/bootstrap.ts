import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger as PinoLogger } from 'pino';
import type { Environment } from '@plexus/config';
import { createRootLogger, Metrics, PinoLoggerService } from '@plexus/observability';
import { QUEUE_NAMES, QueueService } from '@plexus/queue';
import { ApiKeyRepository } from '@plexus/storage';
import { ApiModule } from './api.module.js';
import { credentialFrom } from './auth/api-key.guard.js';
import { mountConsole } from './console/console-assets.js';
import { errorBody } from './http/error-body.js';
import { createValidationPipe } from './http/validation.js';
import { trackingBodyParsers } from './tracking/tracking-body.middleware.js';

export interface CreateApiOptions {
  /** Where JSON logs go (default stdout). */
  logDestination?: NodeJS.WritableStream;
}

/** Builds the API application (not yet listening). Used by `main.ts`, the demo and the tests alike. */
export async function createApiApp(env: Environment, options: CreateApiOptions = {}): Promise<NestExpressApplication> {
  const root = createRootLogger(env.LOG_LEVEL, options.logDestination);
  const logger = new PinoLoggerService(root);
  Logger.overrideLogger(logger);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(env), {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  app.set('trust proxy', true);
  app.disable('x-powered-by');
  app.use(requestLogging(root, app.get(Metrics)));
  // Tracking and webhook routes read their own bodies (Segment limits, text/plain, raw bytes for signatures).
  app.use(trackingBodyParsers(env.BODY_LIMIT));
  app.use(bodyParsers(env.BODY_LIMIT));
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Plexus')
      .setDescription('Customer data platform hub: sources, identity, audiences and destinations')
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'admin API key' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  mountQueueBoard(app);
  mountConsole(app);
  return app;
}

function requestLogging(root: PinoLogger, metrics: Metrics): express.RequestHandler {
  const httpLogger = pinoHttp({
    logger: root,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
    },
  });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpRequests.observe(
        { method: req.method, route, status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    httpLogger(req, res, next);
  };
}

/**
 * JSON and form bodies up to BODY_LIMIT, gzip/deflate accepted. Parser errors (too large, bad JSON) answer
 * in the standard error body here, because they happen before Nest's exception filters can see them.
 */
function bodyParsers(limit: string): express.RequestHandler {
  const parsers = [
    express.json({ limit, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ limit, extended: true }),
  ];
  return (req: Request, res: Response, next: NextFunction) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error) {
        const e = error as { status?: number; statusCode?: number; message?: string; type?: string };
        const status = e.status ?? e.statusCode ?? 400;
        const message =
          e.type === 'entity.too.large'
            ? `Request body is larger than ${limit}`
            : e.type === 'entity.parse.failed'
              ? `Malformed JSON body: ${e.message ?? 'parse error'}`
              : (e.message ?? 'Unreadable request body');
        res.status(status).json(errorBody(status, message, undefined, (req as Request & { id?: string }).id));
        return;
      }
      const parser = parsers[index++];
      if (!parser) return next();
      parser(req, res, step);
    };
    step();
  };
}

/** The BullMQ dashboard at /queues, behind the same admin API key (Bearer, or the key as Basic password). */
function mountQueueBoard(app: NestExpressApplication): void {
  const queues = app.get(QueueService);
  const keys = app.get(ApiKeyRepository);
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/queues');
  createBullBoard({ queues: QUEUE_NAMES.map((name) => new BullMQAdapter(queues.queue(name))), serverAdapter });
  app.use('/queues', (req: Request, res: Response, next: NextFunction) => {
    const key = credentialFrom(req.headers.authorization);
    const deny = (): void => {
      res.setHeader('WWW-Authenticate', 'Basic realm="plexus"');
      res.status(401).json(errorBody(401, 'Missing or invalid admin API key'));
    };
    if (!key) return deny();
    keys.verify(key).then((record) => (record ? next() : deny()), next);
  });
  app.use('/queues', serverAdapter.getRouter() as express.Router);
}
