import { DEMO_CREDENTIALS, type RunningEmulators } from '../test/emulators/index.js';

/** What one platform received and accepted, as the demo's report shows it. */
export interface ActivationReport {
  platform: string;
  activationId: string;
  status: string;
  /** Requests the platform's emulator received for the audience (additions and removals). */
  requests: number;
  /** Members the hub sent and the platform accepted, and what the platform holds now. */
  sent: number;
  accepted: number;
  invalid: number;
  held: number;
  /** Members not sent, by reason (no consent for ads, no identifier the platform accepts). */
  notSendable: Record<string, number>;
}

interface Admin {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

interface ActivationDto {
  id: string;
  status: string;
  externalId: string | null;
  members: Record<string, number>;
}
interface RunDto {
  status: string;
  adds: number;
  accepted: number;
  invalid: number;
  notSendableReasons: Record<string, number>;
  finishedAt: string | null;
}

/**
 * Activates one audience — profiles with an email — to the Meta and Google emulators through the REST API, waits
 * until both are caught up, and reports what each platform received and accepted.
 */
export async function activateToAdPlatforms(
  admin: Admin,
  emulators: RunningEmulators,
  print: (line: string) => void,
): Promise<ActivationReport[]> {
  print('▸ activating an audience to Meta and Google');
  const audience = await admin.call<{ id: string; size: number }>('POST', '/v1/audiences', {
    name: 'Known by email',
    rule: { identifier: 'email' },
  });
  print(`  POST /v1/audiences → ${audience.id} (${audience.size} members)`);
  const meta = await admin.call<{ id: string }>('POST', '/v1/destinations', {
    name: 'Meta Custom Audiences',
    connector: 'meta-custom-audiences',
    config: {
      accessToken: DEMO_CREDENTIALS.meta.token,
      adAccountId: DEMO_CREDENTIALS.meta.adAccountId,
      baseUrl: emulators.meta.url,
    },
  });
  const google = await admin.call<{ id: string }>('POST', '/v1/destinations', {
    name: 'Google Customer Match',
    connector: 'google-customer-match',
    config: {
      accessToken: DEMO_CREDENTIALS.google.token,
      operatingAccountId: DEMO_CREDENTIALS.google.operatingAccountId,
      userListId: DEMO_CREDENTIALS.google.userListId,
      customerMatchTermsAccepted: true,
      baseUrl: emulators.google.url,
    },
  });
  const platforms = [
    { platform: 'Meta', destinationId: meta.id, requests: () => emulators.meta.requests, path: /\/users$/ },
    {
      platform: 'Google',
      destinationId: google.id,
      requests: () => emulators.google.requests,
      path: /audienceMembers:(ingest|remove)$/,
    },
  ];
  const reports: ActivationReport[] = [];
  for (const p of platforms) {
    const activation = await admin.call<ActivationDto>('POST', '/v1/activations', {
      audienceId: audience.id,
      destinationId: p.destinationId,
      mode: 'upsert',
    });
    print(`  POST /v1/activations → ${activation.id} (${p.platform}, upsert)`);
    // Delivery runs in the workers, seconds after the activation exists; wait until every member is accounted for.
    const deadline = Date.now() + 120_000;
    let view: ActivationDto;
    for (;;) {
      view = await admin.call<ActivationDto>('GET', `/v1/activations/${activation.id}`);
      const accounted = Object.values(view.members).reduce((a, b) => a + b, 0);
      if (accounted >= audience.size || view.status !== 'active' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const runs = (await admin.call<{ data: RunDto[] }>('GET', `/v1/activations/${activation.id}/runs?limit=200`)).data;
    const notSendable: Record<string, number> = {};
    for (const run of runs)
      for (const [reason, n] of Object.entries(run.notSendableReasons))
        notSendable[reason] = (notSendable[reason] ?? 0) + n;
    reports.push({
      platform: p.platform,
      activationId: activation.id,
      status: view.status,
      // Google's validateOnly check of the list is not an upload.
      requests: p
        .requests()
        .filter(
          (r) =>
            p.path.test(r.path) &&
            (r.status ?? 0) < 300 &&
            (r.body as { validateOnly?: boolean } | undefined)?.validateOnly !== true,
        ).length,
      sent: runs.reduce((n, r) => n + r.adds, 0),
      accepted: runs.reduce((n, r) => n + r.accepted, 0),
      invalid: runs.reduce((n, r) => n + r.invalid, 0),
      held: view.members.held ?? 0,
      notSendable,
    });
  }
  return reports;
}

export function printActivations(reports: ActivationReport[], print: (line: string) => void): void {
  for (const r of reports) {
    print(
      `  ${r.platform.padEnd(7)} ${r.status.padEnd(7)} received ${r.sent} members in ${r.requests} request(s); accepted ${r.accepted}, invalid ${r.invalid}; the platform holds ${r.held}`,
    );
    for (const [reason, n] of Object.entries(r.notSendable)) print(`      not sent ×${n}: ${reason}`);
  }
}
