import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, type DomainErrorKind } from '@plexus/errors';
import { errorBody } from './error-body.js';

/** The one place a domain error becomes an HTTP status. */
const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
};

/**
 * Turns every error into `{ statusCode, error, message, details? }`: the libs' domain errors by their kind, Nest's
 * HTTP exceptions (routing, pipes, guards) by their status; unexpected errors are logged, never shown.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request & { id?: string }>();
    const requestId = typeof request.id === 'string' ? request.id : undefined;

    if (exception instanceof DomainError) {
      const status = STATUS_OF[exception.kind];
      response.status(status).json(errorBody(status, exception.message, exception.details, requestId));
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
      if (status === 404 && message.startsWith('Cannot ')) message = `No route ${request.method} ${request.path}`;
      response.status(status).json(errorBody(status, message, details, requestId));
      return;
    }
    this.logger.error(exception instanceof Error ? exception : String(exception));
    response.status(500).json(errorBody(500, 'Internal server error', undefined, requestId));
  }
}
