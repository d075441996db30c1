import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { UploadTooLargeError } from '@plexus/sync';
import { RateLimitedError } from '../auth/rate-limits.service.js';
import { boundedErrorBody, errorBody } from './error-body.js';

const logger = new Logger('Http');

/**
 * Writes the error answer for any error: HTTP exceptions with their status, domain errors mapped to theirs,
 * anything else a logged 500 whose details are never shown. Bodies are bounded in size.
 */
export function sendError(exception: unknown, response: Response, requestId?: string, path?: string): void {
  if (exception instanceof RateLimitedError) {
    response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    response.status(429).json(errorBody(429, exception.message, undefined, requestId));
    return;
  }
  if (exception instanceof UploadTooLargeError) {
    // The rest of the body is not read: close the connection rather than drain it.
    response.setHeader('connection', 'close');
    response.status(413).json(errorBody(413, exception.message, { limit: exception.limit }, requestId));
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
  logger.error(exception instanceof Error ? exception : String(exception));
  response.status(500).json(errorBody(500, 'Internal server error', undefined, requestId));
}

/** Turns every error into `{ statusCode, error, message, details? }`; unexpected errors are logged, never shown. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const requestId = typeof request.id === 'string' ? request.id : undefined;
    sendError(exception, http.getResponse<Response>(), requestId, `${request.method} ${request.path}`);
  }
}
