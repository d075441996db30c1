import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { isIdentifierType } from '@plexus/sdk';
import type { AuthenticatedRequest } from './api-key.guard.js';
import { grants } from './scopes.js';

/** What a masked personal value is replaced with. */
export const PII_MASK = '***';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// 7 to 15 digits with the usual separators, as phone numbers are written; not dates or times.
const PHONE = /^\+?[\d\s().-]{7,24}$/;
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;
const PII_NAME = /e-?mail|phone|mobile|msisdn/i;
// Keys whose values are Plexus' own ids and cursors, never personal data even when digits only.
const OWN_KEYS = /^(id|next|.+Id)$/;

function digitCount(value: string): number {
  let n = 0;
  for (const c of value) if (c >= '0' && c <= '9') n++;
  return n;
}

/** Whether a string looks like an email address or a phone number. */
export function looksPersonal(value: string): boolean {
  if (EMAIL.test(value)) return true;
  if (!PHONE.test(value) || DATE_LIKE.test(value)) return false;
  const digits = digitCount(value);
  return digits >= 7 && digits <= 15;
}

/**
 * A copy of an answer with personal data masked: the value of every identifier (`{ type, value }` with an
 * identifier type: identifiers, merge causes, flags), every string under an email/phone-like name (traits
 * such as `email` or `mobilePhone`), and every other string that looks like an email or phone number.
 */
export function maskPii(value: unknown, key = ''): unknown {
  const personalName = PII_NAME.test(key);
  if (typeof value === 'string')
    return personalName || (!OWN_KEYS.test(key) && looksPersonal(value)) ? PII_MASK : value;
  if (typeof value === 'number') return personalName ? PII_MASK : value;
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => maskPii(item, key));
  const source = value as Record<string, unknown>;
  // `{ type: 'email', value }` anywhere, and `email: { value, sourceId, observedAt }` (a trait with provenance).
  const maskValue = personalName || (isIdentifierType(source.type) && 'value' in source);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(source)) {
    out[k] = k === 'value' && maskValue ? maskPii(v, 'email') : maskPii(v, k);
  }
  return out;
}

/**
 * The one place personal data is masked: answers to keys without `pii:read` go through {@link maskPii}, so
 * no controller has to remember it. Routes that stream their answer themselves (the NDJSON export) require
 * `pii:read` instead.
 */
@Injectable()
export class PiiMaskingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = request.apiKey;
    if (!key || grants(key.scopes, ['pii:read'])) return next.handle();
    return next.handle().pipe(map((body) => maskPii(body)));
  }
}
