import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, RateLimitedError, type DomainErrorKind } from '@plexus/errors';
import { isDatabaseUnavailable } from '@plexus/storage';
import { boundedErrorBody, errorBody } from './error-body.js';

const logger = new Logger('Http');

/** The one place a domain error becomes an HTTP status. */
const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'rate-limited': 429,
};

/**
 * Writes the error answer for any error as `{ statusCode, error, message, details? }`: the libs' domain errors by
 * their kind, Nest's HTTP exceptions (routing, pipes, guards) by their status; anything else is a logged 500 whose
 * details are never shown. A database that cannot be reached (down, restarting) is a 503 with `Retry-After`, so
 * clients and load balancers retry rather than give up. Bodies are bounded in size.
 */
export function sendError(exception: unknown, response: Response, requestId?: string, path?: string): void {
  if (exception instanceof DomainError) {
    const status = STATUS_OF[exception.kind];
    if (exception instanceof RateLimitedError) response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    // The rest of a too-large body is not read: close the connection rather than drain it.
    if (status === 413) response.setHeader('connection', 'close');
    response.status(status).json(boundedErrorBody(status, exception.message, exception.details, requestId));
    return;
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const payload = exception.getResponse();
    let message = exception.message;
    let details: unknown;
    if (typeof payload === 'object' && payload !== null) {
      const p = payload as { message?: unknown; details?: unknown };
      if (typeof p.message === 'string') message = p.message;
      else if (Array.isArray(p.message)) message = p.message.join('; ');
      details = p.details;
    }
    if (status === 404 && message.startsWith('Cannot ') && path) message = `No route ${path}`;
    response.status(status).json(boundedErrorBody(status, message, details, requestId));
    return;
  }
  if (isDatabaseUnavailable(exception)) {
    logger.warn(`database unavailable: ${(exception as Error).message}`);
    response.setHeader('Retry-After', '5');
    response.status(503).json(errorBody(503, 'Database unavailable; retry shortly', undefined, requestId));
    return;
  }
  logger.error(exception instanceof Error ? exception : String(exception));
  response.status(500).json(errorBody(500, 'Internal server error', undefined, requestId));
}

/** Turns every error thrown while handling a request into its answer (see {@link sendError}). */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const requestId = typeof request.id === 'string' ? request.id : undefined;
    sendError(exception, http.getResponse<Response>(), requestId, `${request.method} ${request.path}`);
  }
}
