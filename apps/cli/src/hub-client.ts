import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Talks to a running hub's REST API: PLEXUS_URL (default http://localhost:3000) with PLEXUS_API_KEY or DATA_DIR/admin-api-key. */
export class HubClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  static fromEnvironment(dataDir: string): HubClient {
    const baseUrl = (process.env.PLEXUS_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/$/, '');
    const file = join(dataDir, 'admin-api-key');
    const key =
      process.env.PLEXUS_API_KEY ??
      process.env.ADMIN_API_KEY ??
      (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
    if (!key) throw new Error(`no API key: set PLEXUS_API_KEY (or ADMIN_API_KEY), or run where ${file} exists`);
    return new HubClient(baseUrl, key);
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body !== undefined && !(body instanceof Blob) ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      // A Blob (a file opened with fs.openAsBlob) is streamed from disk, never read into memory whole.
      body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body),
    }).catch((error: unknown) => {
      throw new Error(`cannot reach the hub at ${this.baseUrl}: ${(error as Error).message}`);
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok)
      throw new Error(
        `${method} ${path} → ${res.status}: ${(parsed as { message?: string } | undefined)?.message ?? text}`,
      );
    return parsed as T;
  }

  /** Polls a run until it ends or waits on a vendor limit (`waiting`, until `resumeAt`), printing progress. */
  async waitForRun(runId: string, onProgress: (run: RunSummary) => void): Promise<RunSummary> {
    for (;;) {
      const run = await this.request<RunSummary>('GET', `/v1/runs/${runId}`);
      onProgress(run);
      if (!['queued', 'running'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export interface RunSummary {
  id: string;
  status: string;
  stats: { read: number; written: number; quarantined: number; deleted: number; unchanged?: number };
  error?: { type: string; message: string };
  /** When a `waiting` run resumes. */
  resumeAt?: string;
}
