import { STATUS_CODES } from 'node:http';

/** The one error body every endpoint answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  requestId?: string;
}

export function errorBody(statusCode: number, message: string, details?: unknown, requestId?: string): ErrorBody {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (details !== undefined) body.details = details;
  if (requestId) body.requestId = requestId;
  return body;
}
