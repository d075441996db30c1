import { randomUUID } from 'node:crypto';
import { isSha256Hex } from '../common/identifiers.js';
import { RollingWindow } from '../common/rate.js';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';

/**
 * Google Data Manager API audience members, as documented: `POST /v1/audienceMembers:ingest` and
 * `POST /v1/audienceMembers:remove` with `{ destinations, audienceMembers, encoding, consent?, validateOnly?,
 * termsOfService? (ingest only) }`, at most 10,000 members and 10 user identifiers a member, each identifier
 * exactly one of `emailAddress`, `phoneNumber` (SHA-256 of the E.164 number) or `address` (`givenName` and
 * `familyName` hashed, `regionCode` and `postalCode` not). Unknown fields are refused as proto JSON parsing does.
 * Errors are `google.rpc.Status` bodies; throttling answers 429 `RESOURCE_EXHAUSTED` with `RetryInfo`.
 */

export const GOOGLE_MAX_MEMBERS = 10_000;
export const GOOGLE_MAX_IDENTIFIERS = 10;
const ACCOUNT_TYPES = ['GOOGLE_ADS', 'DISPLAY_VIDEO_PARTNER', 'DISPLAY_VIDEO_ADVERTISER', 'DATA_PARTNER'];
const CONSENT_STATUSES = ['CONSENT_STATUS_UNSPECIFIED', 'CONSENT_GRANTED', 'CONSENT_DENIED'];

export interface GoogleConsent {
  adUserData?: string;
  adPersonalization?: string;
}

export interface GoogleMember {
  /** `email:<hash>`, `phone:<hash>`, `address:<json>`. */
  identifiers: string[];
  consent?: GoogleConsent;
}

export interface GoogleUserList {
  id: string;
  accountId: string;
  members: Map<string, GoogleMember>;
  /** identifier → member key */
  index: Map<string, string>;
}

export interface GoogleEmulatorOptions extends EmulatorOptions {
  /** Accepted OAuth access tokens (default `['google-demo-token']`). */
  tokens?: string[];
  /** Customer ids (digits) the tokens may operate, each with its Customer Match user list ids. */
  accounts?: Record<string, string[]>;
  /** Requests per window for the whole project (default 100 per second); `false` turns the limit off. */
  rateLimit?: { max: number; windowMs: number } | false;
  /** `retryDelay` announced when throttled (default `'1s'`). */
  retryDelay?: string;
}

export class GoogleState {
  readonly lists = new Map<string, GoogleUserList>();
  throttled = 0;
  /** Every accepted request, with its `requestId`, for the ledger tests. */
  readonly accepted: Array<{ requestId: string; operation: 'ingest' | 'remove'; members: number }> = [];

  constructor(readonly tokens: Set<string>) {}

  addList(accountId: string, id: string): GoogleUserList {
    const list: GoogleUserList = { id, accountId, members: new Map(), index: new Map() };
    this.lists.set(`${accountId}/${id}`, list);
    return list;
  }

  list(accountId: string, id: string): GoogleUserList | undefined {
    return this.lists.get(`${accountId}/${id}`);
  }

  /** The members a user list holds (inspection API for tests). */
  members(accountId: string, listId: string): GoogleMember[] {
    return [...(this.list(accountId, listId)?.members.values() ?? [])];
  }

  /** The member holding an identifier (`email:<hash>`, `phone:<hash>`), if any. */
  member(accountId: string, listId: string, identifier: string): GoogleMember | undefined {
    const list = this.list(accountId, listId);
    const key = list?.index.get(identifier);
    return key === undefined ? undefined : list?.members.get(key);
  }
}

export type GoogleEmulator = Emulator<GoogleState>;

interface Violation {
  field: string;
  description: string;
}

const status = (code: number, state: string, message: string, details: unknown[] = []): Reply => ({
  status: code,
  json: { error: { code, message, status: state, ...(details.length ? { details } : {}) } },
});
const badRequest = (violations: Violation[], reason = 'INVALID_ARGUMENT'): Reply =>
  status(400, 'INVALID_ARGUMENT', `Request contains an invalid argument: ${violations[0]?.description ?? ''}`, [
    { '@type': 'type.googleapis.com/google.ads.datamanager.v1.ErrorInfo', reason },
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations },
  ]);
const unknownField = (name: string, at: string): Reply =>
  status(
    400,
    'INVALID_ARGUMENT',
    `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field: at, description: `Invalid JSON payload received. Unknown name "${name}"` }],
      },
    ],
  );

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The first field of `value` not in `allowed`, as proto JSON parsing would refuse it. */
function unknownKey(value: Record<string, unknown>, allowed: string[]): string | undefined {
  return Object.keys(value).find((k) => !allowed.includes(k));
}

export async function startGoogle(options: GoogleEmulatorOptions = {}): Promise<GoogleEmulator> {
  const state = new GoogleState(new Set(options.tokens ?? ['google-demo-token']));
  for (const [account, lists] of Object.entries(options.accounts ?? { '1234567890': ['5550001'] })) {
    for (const list of lists) state.addList(account, list);
  }
  const accounts = new Set(Object.keys(options.accounts ?? { '1234567890': [] }));
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? { max: 100, windowMs: 1000 });
  const window = rate ? new RollingWindow(rate.max, rate.windowMs) : undefined;
  const retryDelay = options.retryDelay ?? '1s';

  const exhausted = (): Reply => {
    state.throttled++;
    return status(
      429,
      'RESOURCE_EXHAUSTED',
      'Quota exceeded for quota metric "Requests" of service datamanager.googleapis.com.',
      [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'RATE_LIMIT_EXCEEDED',
          domain: 'googleapis.com',
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
      ],
    );
  };
  const unauthenticated = (): Reply =>
    status(
      401,
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    );
  const denied = (what: string): Reply =>
    status(403, 'PERMISSION_DENIED', `The caller does not have permission: ${what}`);

  return startEmulator<GoogleState>(
    {
      throttled: exhausted,
      serverError: (_req, code) =>
        status(
          code,
          code === 503 ? 'UNAVAILABLE' : 'INTERNAL',
          code === 503 ? 'The service is currently unavailable.' : 'Internal error encountered.',
        ),
      expiredToken: unauthenticated,
      handle,
    },
    state,
    options,
  );

  function handle(req: EmulatorRequest): Reply {
    const auth = req.header('authorization');
    if (!auth?.startsWith('Bearer ') || !state.tokens.has(auth.slice(7))) return unauthenticated();
    const operation = /^\/v1\/audienceMembers:(ingest|remove)$/.exec(req.path)?.[1] as 'ingest' | 'remove' | undefined;
    if (!operation || req.method !== 'POST')
      return status(404, 'NOT_FOUND', `Method not found: ${req.method} ${req.path}`);
    if (req.takeFault('permission')) return denied('the credentials lost access to the operating account');
    if (window && !window.tryTake(req.receivedAt)) return exhausted();
    let body: Record<string, unknown>;
    try {
      body = req.json() as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return status(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const allowed = ['destinations', 'audienceMembers', 'validateOnly', 'encoding', 'encryptionInfo', 'consent'];
    if (operation === 'ingest') allowed.push('termsOfService');
    const extra = unknownKey(body, allowed);
    if (extra) return unknownField(extra, '');

    const destinations = body.destinations;
    if (!Array.isArray(destinations) || destinations.length === 0) {
      return badRequest(
        [{ field: 'destinations', description: 'At least one destination is required.' }],
        'REQUIRED_FIELD_MISSING',
      );
    }
    const lists: GoogleUserList[] = [];
    for (const [i, raw] of destinations.entries()) {
      const d = raw as Record<string, unknown>;
      const at = `destinations[${i}]`;
      const unknown = unknownKey(d, [
        'reference',
        'loginAccount',
        'linkedAccount',
        'operatingAccount',
        'productDestinationId',
      ]);
      if (unknown) return unknownField(unknown, at);
      const account = d.operatingAccount as Record<string, unknown> | undefined;
      if (!account || typeof account.accountId !== 'string' || !/^\d{10}$/.test(account.accountId)) {
        return badRequest([
          {
            field: `${at}.operating_account.account_id`,
            description: 'A 10-digit account id without dashes is required.',
          },
        ]);
      }
      if (!ACCOUNT_TYPES.includes(String(account.accountType))) {
        return badRequest([
          {
            field: `${at}.operating_account.account_type`,
            description: `account_type must be one of ${ACCOUNT_TYPES.join(', ')}.`,
          },
        ]);
      }
      if (!accounts.has(account.accountId)) return denied(`operating account ${account.accountId}`);
      if (typeof d.productDestinationId !== 'string' || d.productDestinationId === '') {
        return badRequest(
          [{ field: `${at}.product_destination_id`, description: 'product_destination_id is required.' }],
          'REQUIRED_FIELD_MISSING',
        );
      }
      const list = state.list(account.accountId, d.productDestinationId);
      if (!list)
        return status(
          404,
          'NOT_FOUND',
          `User list ${d.productDestinationId} was not found in account ${account.accountId}.`,
        );
      lists.push(list);
    }
    if (body.encoding !== 'HEX' && body.encoding !== 'BASE64') {
      return badRequest(
        [{ field: 'encoding', description: 'encoding (HEX or BASE64) is required for UserData uploads.' }],
        'INVALID_ENCODING',
      );
    }
    if (operation === 'ingest') {
      const tos = body.termsOfService as Record<string, unknown> | undefined;
      if (tos?.customerMatchTermsOfServiceStatus !== 'ACCEPTED') {
        return badRequest(
          [
            {
              field: 'terms_of_service.customer_match_terms_of_service_status',
              description: 'The Customer Match terms of service must be accepted.',
            },
          ],
          'TERMS_AND_CONDITIONS_NOT_SIGNED',
        );
      }
    }
    const consentProblem = body.consent === undefined ? undefined : checkConsent(body.consent, 'consent');
    if (consentProblem) return consentProblem;
    const members = body.audienceMembers;
    if (!Array.isArray(members) || members.length === 0) {
      return badRequest(
        [{ field: 'audience_members', description: 'At least one audience member is required.' }],
        'REQUIRED_FIELD_MISSING',
      );
    }
    if (members.length > GOOGLE_MAX_MEMBERS) {
      return badRequest(
        [
          {
            field: 'audience_members',
            description: `At most ${GOOGLE_MAX_MEMBERS} audience members per request (got ${members.length}).`,
          },
        ],
        'TOO_MANY_AUDIENCE_MEMBERS',
      );
    }
    const failFirst = req.takeFault('partial-failure') !== undefined;
    const parsed: GoogleMember[] = [];
    const violations: Violation[] = [];
    for (const [i, raw] of members.entries()) {
      const result = parseMember(raw, `audience_members[${i}]`, body.encoding);
      if ('unknown' in result) return unknownField(result.unknown, result.at);
      if ('violation' in result) violations.push(result.violation);
      else if (failFirst && i === 0) {
        violations.push({
          field: `audience_members[0].user_data.user_identifiers[0]`,
          description: 'The identifier is not in the expected format.',
        });
      } else parsed.push(result.member);
    }
    // One bad member rejects the whole request, as the API validates a request before accepting any of it.
    if (violations.length > 0) return badRequest(violations, 'INVALID_FORMAT');
    const requestId = randomUUID();
    if (body.validateOnly === true) return { status: 200, json: {} };
    for (const list of lists) for (const member of parsed) (operation === 'ingest' ? ingest : remove)(list, member);
    state.accepted.push({ requestId, operation, members: parsed.length });
    return { status: 200, json: { requestId } };
  }
}

function checkConsent(raw: unknown, at: string): Reply | undefined {
  if (!raw || typeof raw !== 'object') return badRequest([{ field: at, description: 'consent must be an object.' }]);
  const consent = raw as Record<string, unknown>;
  const unknown = unknownKey(consent, ['adUserData', 'adPersonalization']);
  if (unknown) return unknownField(unknown, at);
  for (const key of ['adUserData', 'adPersonalization']) {
    const value = consent[key];
    if (value !== undefined && (typeof value !== 'string' || !CONSENT_STATUSES.includes(value))) {
      return badRequest([{ field: `${at}.${snake(key)}`, description: `Invalid value: ${JSON.stringify(value)}` }]);
    }
  }
  return undefined;
}

type ParsedMember = { member: GoogleMember } | { violation: Violation } | { unknown: string; at: string };

function parseMember(raw: unknown, at: string, encoding: unknown): ParsedMember {
  const member = (raw ?? {}) as Record<string, unknown>;
  const unknown = unknownKey(member, ['destinationReferences', 'userData', 'pairData', 'mobileData', 'consent']);
  if (unknown) return { unknown, at };
  if (member.consent !== undefined) {
    const problem = checkConsent(member.consent, `${at}.consent`);
    if (problem) {
      const body = problem.json as { error: { message: string; details?: Array<{ fieldViolations?: Violation[] }> } };
      const violation = body.error.details?.find((d) => d.fieldViolations)?.fieldViolations?.[0];
      return violation
        ? { violation }
        : { unknown: /"(.*)"/.exec(body.error.message)?.[1] ?? '?', at: `${at}.consent` };
    }
  }
  const userData = member.userData as Record<string, unknown> | undefined;
  const identifiers = userData?.userIdentifiers;
  if (!Array.isArray(identifiers) || identifiers.length === 0) {
    return {
      violation: {
        field: `${at}.user_data.user_identifiers`,
        description: 'At least one user identifier is required.',
      },
    };
  }
  if (identifiers.length > GOOGLE_MAX_IDENTIFIERS) {
    return {
      violation: {
        field: `${at}.user_data.user_identifiers`,
        description: `At most ${GOOGLE_MAX_IDENTIFIERS} user identifiers per member.`,
      },
    };
  }
  const hashed = (value: unknown) =>
    encoding === 'HEX' ? isSha256Hex(value) : typeof value === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(value);
  const keys: string[] = [];
  for (const [j, rawId] of identifiers.entries()) {
    const id = (rawId ?? {}) as Record<string, unknown>;
    const field = `${at}.user_data.user_identifiers[${j}]`;
    const extra = unknownKey(id, ['emailAddress', 'phoneNumber', 'address']);
    if (extra) return { unknown: extra, at: field };
    const set = Object.keys(id);
    if (set.length !== 1) {
      return {
        violation: {
          field,
          description: `Exactly one of email_address, phone_number or address must be set (got ${set.length}).`,
        },
      };
    }
    if ('emailAddress' in id || 'phoneNumber' in id) {
      const value = id.emailAddress ?? id.phoneNumber;
      if (!hashed(value))
        return {
          violation: { field, description: `The value is not a SHA-256 hash in ${String(encoding)} encoding.` },
        };
      keys.push(`${'emailAddress' in id ? 'email' : 'phone'}:${String(value)}`);
      continue;
    }
    const address = (id.address ?? {}) as Record<string, unknown>;
    const extraAddress = unknownKey(address, ['givenName', 'familyName', 'regionCode', 'postalCode']);
    if (extraAddress) return { unknown: extraAddress, at: `${field}.address` };
    for (const part of ['givenName', 'familyName'] as const) {
      if (!hashed(address[part])) {
        return {
          violation: {
            field: `${field}.address.${snake(part)}`,
            description: `${snake(part)} must be a SHA-256 hash.`,
          },
        };
      }
    }
    if (typeof address.regionCode !== 'string' || !/^[A-Z]{2}$/.test(address.regionCode)) {
      return {
        violation: {
          field: `${field}.address.region_code`,
          description: 'region_code must be a two-letter ISO-3166-1 alpha-2 code, not hashed.',
        },
      };
    }
    if (typeof address.postalCode !== 'string' || address.postalCode === '' || isSha256Hex(address.postalCode)) {
      return {
        violation: {
          field: `${field}.address.postal_code`,
          description: 'postal_code is required and must not be hashed.',
        },
      };
    }
    keys.push(
      `address:${JSON.stringify([address.givenName, address.familyName, address.regionCode, address.postalCode])}`,
    );
  }
  return { member: { identifiers: keys, consent: member.consent as GoogleConsent | undefined } };
}

function ingest(list: GoogleUserList, member: GoogleMember): void {
  const existing = member.identifiers.map((k) => list.index.get(k)).find((k) => k !== undefined);
  const key = existing ?? member.identifiers[0];
  const previous = existing ? list.members.get(existing) : undefined;
  const merged: GoogleMember = {
    identifiers: [...new Set([...(previous?.identifiers ?? []), ...member.identifiers])],
    consent: member.consent ?? previous?.consent,
  };
  list.members.set(key, merged);
  for (const k of merged.identifiers) list.index.set(k, key);
}

function remove(list: GoogleUserList, member: GoogleMember): void {
  for (const k of member.identifiers) {
    const key = list.index.get(k);
    if (key === undefined) continue;
    for (const other of list.members.get(key)?.identifiers ?? []) list.index.delete(other);
    list.members.delete(key);
  }
}
