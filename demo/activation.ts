import { DEMO_CREDENTIALS, type RunningEmulators } from '../test/emulators/index.js';

/** What one platform received and accepted, as the demo's report shows it. */
export interface ActivationReport {
  platform: string;
  audience: string;
  activationId: string;
  destinationId: string;
  status: string;
  /** Requests the platform's emulator answered with success for the audience (additions and removals). */
  requests: number;
  /** Members the hub sent and the platform accepted (the activation's runs), and what the ledger says it holds. */
  sent: number;
  accepted: number;
  invalid: number;
  held: number;
  /** What the platform's emulator holds now, read from its own state (not from the hub). */
  platformHolds: number;
  /** Members not sent, by reason (no consent for the destination's purpose, no identifier the platform accepts). */
  notSendable: Record<string, number>;
  /** The platform's own audience id: Meta's custom audience, the TTD segment, the HubSpot list. */
  externalId: string | null;
}

export interface Admin {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

interface ActivationDto {
  id: string;
  status: string;
  error?: string | null;
  externalId: string | null;
  members: Record<string, number>;
}
interface RunDto {
  adds: number;
  accepted: number;
  invalid: number;
  notSendableReasons: Record<string, number>;
}

/** One destination of the demo: how to create it, and how to read what its emulator received and holds. */
export interface DestinationPlan {
  platform: string;
  connector: string;
  config: (emulators: RunningEmulators) => Record<string, unknown>;
  /** Paths of the platform's write requests (additions and removals). */
  writes: RegExp;
  /** Members the emulator holds for the platform audience `externalId`. */
  holds: (emulators: RunningEmulators, externalId: string | null) => number;
}

/** `Plexus: <name> [<id>]`, the list the HubSpot destination keeps for an audience. */
function hubspotList(emulators: RunningEmulators, externalId: string | null) {
  return externalId ? emulators.hubspot.state.writeBack.lists.get(externalId) : undefined;
}

export const DESTINATIONS = {
  meta: {
    platform: 'Meta',
    connector: 'meta-custom-audiences',
    config: (e) => ({
      accessToken: DEMO_CREDENTIALS.meta.token,
      adAccountId: DEMO_CREDENTIALS.meta.adAccountId,
      baseUrl: e.meta.url,
    }),
    writes: /\/users$/,
    holds: (e, id) => (id ? e.meta.state.members(id).length : 0),
  },
  google: {
    platform: 'Google',
    connector: 'google-customer-match',
    config: (e) => ({
      accessToken: DEMO_CREDENTIALS.google.token,
      operatingAccountId: DEMO_CREDENTIALS.google.operatingAccountId,
      userListId: DEMO_CREDENTIALS.google.userListId,
      customerMatchTermsAccepted: true,
      baseUrl: e.google.url,
    }),
    writes: /audienceMembers:(ingest|remove)$/,
    holds: (e) =>
      e.google.state.members(DEMO_CREDENTIALS.google.operatingAccountId, DEMO_CREDENTIALS.google.userListId).length,
  },
  ttd: {
    platform: 'TheTradeDesk',
    connector: 'the-trade-desk',
    config: (e) => ({
      advertiserId: DEMO_CREDENTIALS.ttd.advertiserId,
      secretKey: DEMO_CREDENTIALS.ttd.secretKey,
      baseUrl: e.ttd.url,
    }),
    writes: /\/data\/advertiser$/,
    holds: (e, id) => (id ? e.ttd.state.members(DEMO_CREDENTIALS.ttd.advertiserId, id).length : 0),
  },
  hubspot: {
    platform: 'HubSpot',
    connector: 'hubspot-destination',
    config: (e) => ({
      accessToken: DEMO_CREDENTIALS.hubspot.token,
      baseUrl: e.hubspot.url,
      // What the shop knows and the CRM does not, written back to the CRM's contacts.
      properties: {
        totalSpent: 'plexus_total_spent',
        ordersCount: 'plexus_orders_count',
        segment_auto_intender: 'plexus_auto_intender',
      },
    }),
    writes: /\/(batch\/upsert|memberships\/(add|remove))$/,
    holds: (e, id) => hubspotList(e, id)?.members.size ?? 0,
  },
} satisfies Record<string, DestinationPlan>;

/** Creates a destination through the REST API. */
export async function createDestination(
  admin: Admin,
  emulators: RunningEmulators,
  plan: DestinationPlan,
  print: (line: string) => void,
): Promise<string> {
  const created = await admin.call<{ id: string }>('POST', '/v1/destinations', {
    name: plan.platform,
    connector: plan.connector,
    config: plan.config(emulators),
  });
  print(`  POST /v1/destinations ${plan.connector.padEnd(22)} → ${created.id}`);
  return created.id;
}

/**
 * Activates audiences to destinations through the REST API (all at once: each destination has its own queue),
 * waits until every member of each is accounted for in the ledger, and reports what each platform received and
 * accepted — from the hub's runs and ledger, and from the emulator's own state.
 */
export async function activate(
  admin: Admin,
  emulators: RunningEmulators,
  links: Array<{ audience: { id: string; name: string; size: number }; plan: DestinationPlan; destinationId: string }>,
  print: (line: string) => void,
): Promise<ActivationReport[]> {
  const started = [];
  for (const link of links) {
    const activation = await admin.call<ActivationDto>('POST', '/v1/activations', {
      audienceId: link.audience.id,
      destinationId: link.destinationId,
      mode: 'upsert',
    });
    print(`  POST /v1/activations → ${activation.id} ("${link.audience.name}" → ${link.plan.platform}, upsert)`);
    started.push({ ...link, activationId: activation.id });
  }
  // Delivery runs in the workers, seconds after the activation exists; wait until every member is accounted for.
  const deadline = Date.now() + 90_000;
  const views = new Map<string, ActivationDto>();
  for (;;) {
    let pending = 0;
    for (const s of started) {
      const view = await admin.call<ActivationDto>('GET', `/v1/activations/${s.activationId}`);
      views.set(s.activationId, view);
      const accounted = Object.entries(view.members)
        .filter(([state]) => state !== 'removing')
        .reduce((a, [, n]) => a + n, 0);
      if (view.status === 'active' && accounted < s.audience.size) pending++;
    }
    print(
      `  ${started
        .map((s) => {
          const v = views.get(s.activationId)!;
          return `${s.plan.platform} ${v.status} ${Object.values(v.members).reduce((a, b) => a + b, 0)}/${s.audience.size}`;
        })
        .join(' · ')}`,
    );
    if (pending === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const reports: ActivationReport[] = [];
  for (const s of started) {
    const view = views.get(s.activationId)!;
    if (view.status !== 'active') print(`  ${s.plan.platform} is ${view.status}: ${view.error ?? ''}`);
    const runs = (await admin.call<{ data: RunDto[] }>('GET', `/v1/activations/${s.activationId}/runs?limit=200`)).data;
    const notSendable: Record<string, number> = {};
    for (const run of runs)
      for (const [reason, n] of Object.entries(run.notSendableReasons))
        notSendable[reason] = (notSendable[reason] ?? 0) + n;
    reports.push({
      platform: s.plan.platform,
      audience: s.audience.name,
      activationId: s.activationId,
      destinationId: s.destinationId,
      status: view.status,
      requests: countWrites(emulators, s.plan),
      sent: runs.reduce((n, r) => n + r.adds, 0),
      accepted: runs.reduce((n, r) => n + r.accepted, 0),
      invalid: runs.reduce((n, r) => n + r.invalid, 0),
      held: view.members.held ?? 0,
      platformHolds: s.plan.holds(emulators, view.externalId),
      notSendable,
      externalId: view.externalId,
    });
  }
  return reports;
}

/** Successful write requests an emulator answered for a destination (Google's validateOnly check is not one). */
export function countWrites(emulators: RunningEmulators, plan: DestinationPlan, since = 0): number {
  const key = (
    { Meta: 'meta', Google: 'google', TheTradeDesk: 'ttd', HubSpot: 'hubspot' } as Record<
      string,
      keyof RunningEmulators
    >
  )[plan.platform];
  const emulator = emulators[key] as { requests: Array<{ path: string; status?: number; body?: unknown }> };
  return emulator.requests
    .slice(since)
    .filter(
      (r) =>
        plan.writes.test(r.path) &&
        (r.status ?? 0) < 300 &&
        (r.body as { validateOnly?: boolean } | undefined)?.validateOnly !== true,
    ).length;
}

export function printActivations(reports: ActivationReport[], print: (line: string) => void): void {
  for (const r of reports) {
    print(
      `    ${r.platform.padEnd(12)} ${r.status.padEnd(7)} received ${r.sent} in ${r.requests} request(s); accepted ${r.accepted}, invalid ${r.invalid}; ledger holds ${r.held}, the platform holds ${r.platformHolds}`,
    );
    for (const [reason, n] of Object.entries(r.notSendable)) print(`        not sent ×${n}: ${reason}`);
  }
}
