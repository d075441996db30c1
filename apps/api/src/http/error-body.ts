import { STATUS_CODES } from 'node:http';

/** The one error body every endpoint answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  /** How many entries of `details` were left out to keep the answer small. */
  detailsOmitted?: number;
  requestId?: string;
}

/** At most this many entries of `details` are sent, and messages are cut at MAX_MESSAGE characters. */
export const MAX_DETAILS = 100;
export const MAX_MESSAGE = 2000;

export function errorBody(statusCode: number, message: string, details?: unknown, requestId?: string): ErrorBody {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (details !== undefined) body.details = details;
  if (requestId) body.requestId = requestId;
  return body;
}

/**
 * An error body whose size does not grow with the request: a batch of 100,000 bad messages answers with the
 * first {@link MAX_DETAILS} reasons and the number left out, not a 12 MB list.
 */
export function boundedErrorBody(
  statusCode: number,
  message: string,
  details?: unknown,
  requestId?: string,
): ErrorBody {
  const shortMessage = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (cut)` : message;
  if (!Array.isArray(details) || details.length <= MAX_DETAILS)
    return errorBody(statusCode, shortMessage, details, requestId);
  const body = errorBody(statusCode, shortMessage, details.slice(0, MAX_DETAILS), requestId);
  body.detailsOmitted = details.length - MAX_DETAILS;
  return body;
}
