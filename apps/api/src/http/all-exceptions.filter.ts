import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { UploadTooLargeError } from '@plexus/sync';
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
    if (exception instanceof UploadTooLargeError) {
      // The rest of the body is not read: close the connection rather than drain it.
      response.setHeader('connection', 'close');
      response.status(413).json(errorBody(413, exception.message, { limit: exception.limit }, requestId));
      return;
    }
    this.logger.error(exception instanceof Error ? exception : String(exception));
    response.status(500).json(errorBody(500, 'Internal server error', undefined, requestId));
  }
}
