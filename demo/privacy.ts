import { hash } from 'node:crypto';
import { DEMO_CREDENTIALS, type RunningEmulators } from '../test/emulators/index.js';
import { countWrites, DESTINATIONS, type ActivationReport, type Admin } from './activation.js';

/** The erasure of one activated person, as the demo's report shows it. */
export interface ErasureReport {
  requestId: string;
  status: string;
  /** The email the request named (the demo's people are synthetic). */
  email: string;
  profileId: string;
  steps: Array<{ name: string; status: string; detail?: string }>;
  /** Platforms whose ledger held the person before the request. */
  heldBy: string[];
  /** Removal requests each platform's emulator answered after the request was filed (and HubSpot's GDPR deletes). */
  removals: Record<string, number>;
  /** Every identifier the profile held, and whether the REST lookup by it still finds a profile. */
  lookups: Array<{ identifier: string; found: boolean }>;
  /** `GET /v1/profiles/:id` of the erased profile. */
  profileStatus: number;
  /** Platforms that had received the person and whose emulator still holds them, read from its own state. */
  platformsStillHolding: string[];
  /** Ledger entries left for the person in each activation (`GET …/ledger?identifier=`). */
  ledgerEntriesLeft: number;
  seconds: number;
}

interface ProfileDto {
  id: string;
  identifiers: Array<{ type: string; value: string }>;
}
interface RequestDto {
  id: string;
  status: string;
  steps: Array<{ name: string; status: string; detail?: string }>;
  waitingOn?: { step: string; on: string[] };
}

/**
 * Files a deletion (`POST /v1/privacy/requests`, type `delete`) for one person the platforms received, waits until
 * it completes, then checks that the person is gone: every identifier's lookup finds nothing, the ledger has no row
 * left, and no platform's emulator holds them.
 */
export async function eraseOnePerson(
  admin: Admin & { status(path: string): Promise<number> },
  emulators: RunningEmulators,
  email: string,
  activations: ActivationReport[],
  print: (line: string) => void,
): Promise<ErasureReport> {
  const started = Date.now();
  const found = await admin.call<{ data: ProfileDto[] }>(
    'GET',
    `/v1/profiles?identifier=${encodeURIComponent(`email:${email}`)}`,
  );
  if (found.data.length === 0) throw new Error(`the person to erase (${email}) has no profile`);
  const profile = found.data[0];
  const heldBy: string[] = [];
  for (const a of activations) {
    const ledger = await admin.call<{ entries: Array<{ held: boolean }> }>(
      'GET',
      `/v1/activations/${a.activationId}/ledger?identifier=${encodeURIComponent(`email:${email}`)}`,
    );
    if (ledger.entries.some((e) => e.held)) heldBy.push(a.platform);
  }
  const plans = Object.values(DESTINATIONS).filter((p) => activations.some((a) => a.platform === p.platform));
  const before = new Map(plans.map((p) => [p.platform, requestCount(emulators, p.platform)]));
  const gdprBefore = emulators.hubspot.state.writeBack.gdprDeleted.length;

  const filed = await admin.call<{ id: string }>('POST', '/v1/privacy/requests', {
    type: 'delete',
    identifier: { type: 'email', value: email },
  });
  print(`  POST /v1/privacy/requests delete email:${email} → ${filed.id} (held by ${heldBy.join(', ') || 'nobody'})`);
  let request: RequestDto;
  let last = '';
  const deadline = Date.now() + 90_000;
  for (;;) {
    request = await admin.call<RequestDto>('GET', `/v1/privacy/requests/${filed.id}`);
    const line = `  ${request.status}: ${request.steps.map((s) => `${s.name} ${s.status}`).join(' · ')}${
      request.waitingOn ? ` (waiting on ${request.waitingOn.on.join('; ')})` : ''
    }`;
    if (line !== last) print(line);
    last = line;
    if (request.status === 'completed' || request.status === 'failed' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  const removals: Record<string, number> = {};
  for (const p of plans) removals[p.platform] = countWrites(emulators, p, before.get(p.platform));
  removals['HubSpot GDPR delete'] = emulators.hubspot.state.writeBack.gdprDeleted.length - gdprBefore;

  const lookups: ErasureReport['lookups'] = [];
  for (const i of profile.identifiers) {
    const answer = await admin.call<{ data: unknown[] }>(
      'GET',
      `/v1/profiles?identifier=${encodeURIComponent(`${i.type}:${i.value}`)}`,
    );
    lookups.push({ identifier: `${i.type}:${i.value}`, found: answer.data.length > 0 });
  }
  let ledgerEntriesLeft = 0;
  for (const a of activations) {
    const ledger = await admin.call<{ entries: unknown[] }>(
      'GET',
      `/v1/activations/${a.activationId}/ledger?identifier=${encodeURIComponent(`email:${email}`)}`,
    );
    ledgerEntriesLeft += ledger.entries.length;
  }
  return {
    requestId: filed.id,
    status: request.status,
    email,
    profileId: profile.id,
    steps: request.steps.map((s) => ({ name: s.name, status: s.status, detail: s.detail })),
    heldBy,
    removals,
    lookups,
    profileStatus: await admin.status(`/v1/profiles/${profile.id}`),
    platformsStillHolding: platformsHolding(emulators, email, activations).filter((p) => heldBy.includes(p)),
    ledgerEntriesLeft,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

function requestCount(emulators: RunningEmulators, platform: string): number {
  const key = ({ Meta: 'meta', Google: 'google', TheTradeDesk: 'ttd', HubSpot: 'hubspot' } as const)[
    platform as 'Meta' | 'Google' | 'TheTradeDesk' | 'HubSpot'
  ];
  return emulators[key].requests.length;
}

/** Platforms whose emulator still holds the email (hashed the platform's way, or as a HubSpot contact). */
export function platformsHolding(
  emulators: RunningEmulators,
  email: string,
  activations: ActivationReport[],
): string[] {
  const sha = hash('sha256', email.trim().toLowerCase(), 'hex');
  const out: string[] = [];
  const meta = activations.find((a) => a.platform === 'Meta')?.externalId;
  if (meta && emulators.meta.state.members(meta).some((row) => JSON.stringify(row).includes(sha))) out.push('Meta');
  const { operatingAccountId, userListId } = DEMO_CREDENTIALS.google;
  if (emulators.google.state.member(operatingAccountId, userListId, `email:${sha}`)) out.push('Google');
  const contacts = emulators.hubspot.state.contacts.table;
  for (let row = 0; row < contacts.count; row++) {
    if (contacts.isArchived(row)) continue;
    if (contacts.get(row).properties.email?.trim().toLowerCase() === email.trim().toLowerCase()) {
      out.push('HubSpot');
      break;
    }
  }
  return out;
}
