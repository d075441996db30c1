import { randomUUID } from 'node:crypto';
import { Logger, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger as PinoLogger } from 'pino';
import { trustProxySetting, type Environment } from '@plexus/config';
import { createRootLogger, Metrics, PinoLoggerService, redactUrl } from '@plexus/observability';
import { QueueService, queueBoardRouter } from '@plexus/queue';
import { ApiModule } from './api.module.js';
import { ApiKeyAuthenticator, basicPassword, bearerCredential } from './auth/api-key.guard.js';
import { annotateScopes } from './auth/openapi-scopes.js';
import { mountConsole } from './console/console-assets.js';
import { errorBody } from './http/error-body.js';
import { sendError } from './http/all-exceptions.filter.js';
import { UnstorableInputPipe } from './http/unstorable-input.pipe.js';
import { createValidationPipe } from './http/validation.js';
import { readsOwnBody, trackingBodyParsers } from './tracking/tracking-body.middleware.js';
import { TrackingController } from './tracking/tracking.controller.js';
import { ROUTE_LABEL, trackingEdge } from './tracking/tracking-edge.js';

export interface CreateApiOptions {
  /** Where JSON logs go (default stdout). */
  logDestination?: NodeJS.WritableStream;
  /** Extra providers for the application (tests: doubles of components another module normally provides). */
  providers?: Provider[];
}

/** Builds the API application (not yet listening). Used by `main.ts`, the demo and the tests alike. */
export async function createApiApp(env: Environment, options: CreateApiOptions = {}): Promise<NestExpressApplication> {
  const root = createRootLogger(env.LOG_LEVEL, options.logDestination);
  const logger = new PinoLoggerService(root);
  Logger.overrideLogger(logger);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(env, options.providers), {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  app.set('trust proxy', trustProxySetting(env.TRUST_PROXY));
  app.disable('x-powered-by');
  app.use(requestLogging(root, app.get(Metrics)));
  // Security headers on every answer: the API, /docs and /queues (whose pages load only their own scripts).
  app.use(helmet());
  // Tracking and webhook routes read their own bodies (Segment limits, text/plain, raw bytes for signatures); the
  // tracking edge then answers tracking requests without Nest's router.
  app.use(trackingBodyParsers(env.BODY_LIMIT, trackingEdge(app.get(TrackingController))));
  app.use(bodyParsers(env.BODY_LIMIT));
  app.useGlobalPipes(new UnstorableInputPipe(), createValidationPipe());
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
  annotateScopes(app, document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  mountQueueBoard(app);
  mountConsole(app);
  return app;
}

/**
 * Request ids, the request-duration metric and one summary line per request (`request completed`, or at error
 * level `request failed with status code …`), at info, warn (4xx) or error (5xx) level; `/health` and `/metrics`
 * are not logged. Written here rather than with pino-http, which builds a child logger holding the serialised
 * request for every request, even when its line is below LOG_LEVEL, for a `req.log` the API does not use.
 */
function requestLogging(root: PinoLogger, metrics: Metrics): express.RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    (req as Request & { id?: string }).id = id;
    res.setHeader('x-request-id', id);
    // As received: routers rewrite req.url on the way.
    const url = req.url;
    // Once, at whichever comes first: finished, closed early (client gone), or an error on the response.
    const done = (error?: Error): void => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      res.removeListener('error', done);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (error === undefined && res.writableFinished) {
        const route =
          (req.route as { path?: string } | undefined)?.path ??
          (res.locals[ROUTE_LABEL] as string | undefined) ??
          'unmatched';
        metrics.httpRequests.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      }
      if (url === '/health' || url === '/metrics') return;
      const failed = error !== undefined || res.statusCode >= 500;
      const level = failed ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!root.isLevelEnabled(level)) return;
      root[level](
        {
          req: { id, method: req.method, url: redactUrl(url) },
          res: { statusCode: res.statusCode, headers: res.getHeaders() },
          responseTime: Math.round(seconds * 1000),
          ...(error ? { err: error } : {}),
        },
        failed ? `request failed with status code ${res.statusCode}` : 'request completed',
      );
    };
    res.on('finish', done);
    res.on('close', done);
    res.on('error', done);
    next();
  };
}

const JSON_TYPES = ['application/json', 'application/*+json'];
const UPLOAD_PATH = /^\/v1\/sources\/[^/]+\/upload\/?$/;

/**
 * JSON bodies up to BODY_LIMIT, gzip/deflate accepted. The admin API takes JSON only (a 415 otherwise):
 * forms and text are what another site's page can make a browser send without a CORS preflight. Uploads and
 * the tracking/webhook routes read their own bodies. Parser errors (too large, bad JSON) answer in the
 * standard error body here, because they happen before Nest's exception filters can see them.
 */
function bodyParsers(limit: string): express.RequestHandler {
  const parsers = [express.json({ limit, type: JSON_TYPES })];
  return (req: Request, res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !readsOwnBody(req.path) && !UPLOAD_PATH.test(req.path) && !req.is(JSON_TYPES)) {
      const type = req.headers['content-type'] ?? 'none';
      res
        .status(415)
        .json(
          errorBody(
            415,
            `Unsupported content-type ${type}: the API takes JSON bodies (Content-Type: application/json)`,
            undefined,
            (req as Request & { id?: string }).id,
          ),
        );
      return;
    }
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

/**
 * Whether a browser says the request comes from another site (`Sec-Fetch-Site`, or for older browsers an
 * `Origin` other than this server's). Requests without either header (curl, scripts) are not cross-site.
 */
export function isCrossSite(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  return typeof origin === 'string' && origin !== `${req.protocol}://${req.get('host') ?? ''}`;
}

/**
 * The BullMQ dashboard at /queues, for admin keys: Bearer, or the key as the password of a browser's Basic
 * prompt. Browsers resend Basic credentials to any request for this origin, so cross-site requests are
 * refused before they can use them.
 */
function mountQueueBoard(app: NestExpressApplication): void {
  const queues = app.get(QueueService);
  const authenticator = app.get(ApiKeyAuthenticator);
  app.use('/queues', (req: Request, res: Response, next: NextFunction) => {
    const requestId = (req as Request & { id?: string }).id;
    if (isCrossSite(req)) {
      res.status(403).json(errorBody(403, 'Cross-site requests to the queue board are refused', undefined, requestId));
      return;
    }
    const header = req.headers.authorization;
    authenticator
      .authenticate(bearerCredential(header) ?? basicPassword(header), req.ip ?? 'unknown', 'Missing admin API key')
      .then((record) => {
        if (record.scopes.includes('admin')) return next();
        res.status(403).json(errorBody(403, 'The queue board needs an admin API key', undefined, requestId));
      })
      .catch((error: unknown) => {
        if ((error as { status?: number }).status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="plexus"');
        sendError(error, res, requestId);
      });
  });
  app.use('/queues', queueBoardRouter(queues, '/queues'));
}
