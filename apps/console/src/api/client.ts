import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';
import { session } from '../auth/session.js';

/** An error answer of the API: its status and its own message (`{ statusCode, error, message, details? }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Array<{ field: string; problems: string[] }>,
  ) {
    super(message);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const key = session.key();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
  onResponse({ response }) {
    // A revoked or rotated key ends the session: the sign-in page shows again.
    if (response.status === 401) session.signOut();
    return response;
  },
};

/** The typed client: paths, parameters and request bodies come from the hub's own OpenAPI document. */
export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

export function errorFrom(status: number, body: unknown, fallback: string): ApiError {
  const b = (body ?? {}) as { message?: unknown; details?: ApiError['details'] };
  const message = Array.isArray(b.message)
    ? b.message.join('; ')
    : typeof b.message === 'string'
      ? b.message
      : fallback;
  return new ApiError(status, message, b.details);
}

/**
 * Awaits a client call and returns its body, typed by the OpenAPI document, or throws an {@link ApiError} with
 * the API's message.
 */
export async function unwrap<D>(call: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) throw errorFrom(response.status, error, `${response.status} ${response.statusText}`);
  return data as D;
}
