import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as PinoLogger } from 'pino';

/**
 * Paths pino removes from every log line: credentials, connector secrets and the PII a CDP carries.
 * `*` matches one level, so `config.*.apiKey`-style nesting is covered by the generic names below.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["access-token"]',
  'req.headers["x-shopify-access-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.accessToken',
  '*.apiKey',
  '*.writeKey',
  '*.email',
  '*.phone',
  '*.config',
  'config',
  'secrets',
  'email',
  'phone',
];

/** Query parameters whose values are personal data: logged as `[redacted]` (`identifier` keeps its type). */
const PERSONAL_QUERY_PARAMETERS = new Set([
  'email',
  'phone',
  'userid',
  'user_id',
  'anonymousid',
  'anonymous_id',
  'value',
]);

/**
 * A request URL as logged: `identifier=email:alice@example.io` becomes `identifier=email:[redacted]` (the type
 * says what was looked up, the value would be personal data), and other personal parameters lose their value.
 *
 * @example redactUrl('/v1/profiles?identifier=email:a%40b.io&limit=5') // → '/v1/profiles?identifier=email:[redacted]&limit=5'
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* keep it as sent */
      }
      const key = decoded.toLowerCase();
      if (key === 'identifier') {
        const value = pair.slice(eq + 1);
        const colon = value.search(/:|%3a/i);
        return colon < 0 ? `${name}=[redacted]` : `${name}=${value.slice(0, colon)}:[redacted]`;
      }
      return PERSONAL_QUERY_PARAMETERS.has(key) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, at)}?${query.join('&')}`;
}

const isDatabaseError = (e: unknown): e is Error & Record<string, unknown> =>
  e instanceof Error &&
  typeof (e as { code?: unknown }).code === 'string' &&
  /^[0-9A-Z]{5}$/.test((e as unknown as { code: string }).code) &&
  typeof (e as { severity?: unknown }).severity === 'string';

// PostgreSQL quotes the offending input in its messages (`invalid input syntax for type uuid: "alice@…"`).
const scrubQuoted = (text: string): string => text.replace(/"(?:[^"\\]|\\.)*"/g, '"[redacted]"');

/** An error's message as it may be logged: a database error's without the values PostgreSQL quotes in it. */
export function loggableErrorMessage(error: unknown): string {
  if (isDatabaseError(error)) return scrubQuoted(error.message);
  return error instanceof Error ? error.message : String(error);
}

/**
 * Errors as logged. A database error keeps its code and where it happened (table, column, constraint, routine)
 * but loses `detail`, `where`, `hint`, the internal query and the values PostgreSQL quotes in its message: they
 * carry statement parameters, which are personal data. Other errors are logged in full.
 */
export function serializeError(error: unknown): unknown {
  if (!isDatabaseError(error)) return pino.stdSerializers.err(error as Error);
  const out: Record<string, unknown> = {
    type: error.name,
    message: scrubQuoted(error.message),
    code: error.code,
    stack: error.stack ? scrubQuoted(error.stack) : undefined,
  };
  for (const field of ['severity', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'])
    if (error[field] !== undefined) out[field] = error[field];
  return out;
}

export function createRootLogger(level: string, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level,
      base: { service: 'plexus' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** Routes Nest's Logger (and everything that uses `new Logger(context)`) to pino as JSON. */
export class PinoLoggerService implements LoggerService {
  constructor(readonly pino: PinoLogger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ): void {
    // Nest passes the context last, and for errors a stack before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields: Record<string, unknown> = { context };
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      this.pino[level](
        { ...fields, err: message },
        isDatabaseError(message) ? scrubQuoted(message.message) : message.message,
      );
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
