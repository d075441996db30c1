import {
  startFixtureServer,
  type FixtureRequest,
  type FixtureResponse,
  type FixtureServer,
} from '../fixture-server.js';

export interface FakeContact {
  id: string;
  email: string | null;
  name: string;
  /** Milliseconds since the epoch of the last change. */
  updatedAt: number;
}

export const GOOD_TOKEN = 'good-token-0123456789';

/** The list cursor: contacts are ordered by (updatedAt, id), and `after` names the last one seen. */
export const cursorOf = (contact: FakeContact): string => `${contact.updatedAt}:${contact.id}`;

const compareCursor = (a: string, b: string): number => {
  const [ta, ia] = a.split(':');
  const [tb, ib] = b.split(':');
  return Number(ta) - Number(tb) || ia.localeCompare(ib);
};

/**
 * A tiny CRM API: `GET /me` checks the bearer token; `GET /contacts?limit=&after=` lists contacts changed
 * after a cursor, oldest change first, with `paging.next.after` while more remain.
 */
export class FakeCrmApi {
  contacts: FakeContact[] = [];
  private server?: FixtureServer;

  get url(): string {
    return this.server!.url;
  }
  get fixtureServer(): FixtureServer {
    return this.server!;
  }

  async start(): Promise<void> {
    this.server = await startFixtureServer((request) => this.handle(request));
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  /** Adds or updates contacts with a change time after every existing one; returns their ids. */
  touch(changes: Array<Omit<FakeContact, 'updatedAt'>>): string[] {
    let clock = Math.max(0, ...this.contacts.map((c) => c.updatedAt));
    for (const change of changes) {
      this.contacts = this.contacts.filter((c) => c.id !== change.id);
      this.contacts.push({ ...change, updatedAt: ++clock });
    }
    return changes.map((c) => c.id);
  }

  private handle(request: FixtureRequest): FixtureResponse {
    if (request.headers.authorization !== `Bearer ${GOOD_TOKEN}`) {
      return {
        status: 401,
        body: { status: 'error', message: 'Authentication credentials not found', category: 'INVALID_AUTHENTICATION' },
      };
    }
    if (request.path === '/me') return { body: { portalId: 1 } };
    if (request.path !== '/contacts') return { status: 404, body: { message: 'not found' } };
    const limit = Number(request.query.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return { status: 400, body: { message: 'limit must be 1-100' } };
    const after = request.query.get('after');
    const sorted = [...this.contacts].sort((a, b) => compareCursor(cursorOf(a), cursorOf(b)));
    const remaining = after ? sorted.filter((c) => compareCursor(cursorOf(c), after) > 0) : sorted;
    const results = remaining.slice(0, limit);
    const more = remaining.length > limit;
    return { body: { results, ...(more ? { paging: { next: { after: cursorOf(results.at(-1)!) } } } : {}) } };
  }
}
