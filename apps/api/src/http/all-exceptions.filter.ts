import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  AudienceInUseError,
  AudienceNotFoundError,
  ComputedTraitConflictError,
  ComputedTraitNotFoundError,
  InvalidRuleError,
} from '@plexus/audiences';
import { errorBody } from './error-body.js';

/** Turns every error into `{ statusCode, error, message, details? }`; unexpected errors are logged, never shown. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request & { id?: string }>();
    const requestId = typeof request.id === 'string' ? request.id : undefined;

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
    const domain = domainStatus(exception);
    if (domain) {
      response.status(domain.status).json(errorBody(domain.status, domain.message, domain.details, requestId));
      return;
    }
    this.logger.error(exception instanceof Error ? exception : String(exception));
    response.status(500).json(errorBody(500, 'Internal server error', undefined, requestId));
  }
}

/** The HTTP status of a domain error thrown by a lib (undefined for unexpected errors). */
function domainStatus(error: unknown): { status: number; message: string; details?: unknown } | undefined {
  if (error instanceof InvalidRuleError)
    return {
      status: 400,
      message: `Invalid request: ${error.message}`,
      details: [{ field: error.path, problems: [error.problem] }],
    };
  if (error instanceof AudienceNotFoundError || error instanceof ComputedTraitNotFoundError)
    return { status: 404, message: error.message };
  if (error instanceof ComputedTraitConflictError)
    return {
      status: 409,
      message: error.message,
      ...(error.usedBy.length ? { details: { usedBy: error.usedBy } } : {}),
    };
  if (error instanceof AudienceInUseError)
    return { status: 409, message: error.message, details: { usedBy: error.usedBy } };
  return undefined;
}
