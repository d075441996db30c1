/** What replaces a secret value in logs and error messages. */
export const REDACTED = '[redacted]';

/** Header names whose values are credentials whatever the configuration says. */
const SENSITIVE_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'access-token',
  'x-shopify-access-token',
  'developer-token',
  'ttdsignature',
]);

export interface Redactor {
  /** The text with every secret value (plain or URL-encoded) replaced by `[redacted]`. */
  text(value: string): string;
  /** A deep copy with secrets replaced in every string and credential headers removed. */
  value<T>(value: T): T;
}

/**
 * Builds a redactor for the given secret values (empty values are ignored). Longer secrets are replaced
 * first, so a secret that contains another is never half-redacted.
 *
 * @example
 * ```ts
 * const redact = createRedactor(['s3cr3t-token']);
 * redact.text('GET /me?access_token=s3cr3t-token');          // 'GET /me?access_token=[redacted]'
 * redact.value({ headers: { Authorization: 'Bearer x' } });  // { headers: { Authorization: '[redacted]' } }
 * ```
 */
export function createRedactor(secretValues: Iterable<string>): Redactor {
  const needles = new Set<string>();
  for (const secret of secretValues) {
    if (typeof secret !== 'string' || secret.length === 0) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    needles.add(Buffer.from(secret).toString('base64'));
  }
  const ordered = [...needles].filter((n) => n.length > 0).sort((a, b) => b.length - a.length);

  const text = (value: string): string => {
    let out = value;
    for (const needle of ordered) {
      if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    }
    return out;
  };

  const walk = (value: unknown, seen: WeakSet<object>): unknown => {
    if (typeof value === 'string') return text(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, seen));
    if (value instanceof Error) {
      return { name: value.name, message: text(value.message) };
    }
    if (value instanceof Date || Buffer.isBuffer(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SENSITIVE_KEYS.has(key.toLowerCase()) ? REDACTED : walk(v, seen);
    }
    return out;
  };

  return { text, value: <T>(value: T): T => walk(value, new WeakSet()) as T };
}
