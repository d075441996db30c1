import { abortableSleep, ConfigurationError, SystemError, TransientError, type ConnectorContext } from '@plexus/sdk';
import { DEFAULT_API_VERSION, graphqlPath, type ShopifyConfig } from './config.js';

/** `extensions.cost.throttleStatus` of every GraphQL Admin API answer. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface QueryCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
}

interface GraphqlError {
  message?: string;
  extensions?: { code?: string; cost?: number; maxCost?: number };
}

interface GraphqlAnswer<T> {
  data?: T | null;
  errors?: GraphqlError[] | string | Record<string, unknown>;
  extensions?: { cost?: QueryCost };
}

/** Shopify refused a query for costing more than its single-query limit; `cost` and `maxCost` say by how much. */
export class QueryTooExpensiveError extends SystemError {
  constructor(
    message: string,
    readonly cost: number,
    readonly maxCost: number,
  ) {
    super(message);
    this.name = 'QueryTooExpensiveError';
  }
}

/**
 * How long to wait after a `THROTTLED` answer: until the bucket has restored the points the query asked for.
 * Undefined when the answer is not a throttle.
 *
 * @example throttleDelayMs({ errors: [{ extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: 752,
 *   throttleStatus: { currentlyAvailable: 500, restoreRate: 100 } } } }) // 2520
 */
export function throttleDelayMs(body: unknown): number | undefined {
  const answer = body as GraphqlAnswer<unknown> | null;
  if (!Array.isArray(answer?.errors) || !answer.errors.some((e) => e?.extensions?.code === 'THROTTLED'))
    return undefined;
  const cost = answer.extensions?.cost;
  const status = cost?.throttleStatus;
  if (!cost || !status || !(status.restoreRate > 0)) return 1_000;
  const missing = Math.max(0, cost.requestedQueryCost - status.currentlyAvailable);
  return Math.max(250, Math.ceil((missing / status.restoreRate) * 1000));
}

/** What the bucket holds now, estimated from the last status seen and the time since. */
function estimatedAvailable(status: ThrottleStatus, seenAt: number, now: number): number {
  return Math.min(status.maximumAvailable, status.currentlyAvailable + ((now - seenAt) / 1000) * status.restoreRate);
}

/**
 * The connector's GraphQL client. Every answer reports the app's cost bucket on the shop; before each query
 * the client waits until the bucket holds the points the query will ask for (Shopify charges the requested cost
 * up front and refunds the unused part), so a steady read spends the restore rate instead of drawing `THROTTLED`.
 * A `THROTTLED` answer that still comes (another process of the same app spending the bucket) is retried by the
 * SDK's HTTP client after the delay the bucket needs (see the manifest's `http.throttle`).
 */
export class ShopifyGraphql {
  private status: ThrottleStatus | undefined;
  private seenAt = 0;
  private warnedVersion = false;
  /** Points requested and spent, and time spent waiting for the bucket: for logs and the benchmark. */
  readonly spent = { requested: 0, actual: 0, queries: 0, waitedMs: 0 };

  constructor(private readonly ctx: ConnectorContext<ShopifyConfig>) {}

  /** The last throttle status Shopify reported. */
  get throttleStatus(): ThrottleStatus | undefined {
    return this.status;
  }

  /**
   * Runs one query or mutation and returns its `data`. `expectedCost` is the cost the query will request (for
   * pacing); GraphQL errors throw: `ACCESS_DENIED` as a configuration error naming the scope, `MAX_COST_EXCEEDED`
   * as `QueryTooExpensiveError`, anything else as a system error.
   */
  async request<T>(query: string, variables: Record<string, unknown> = {}, expectedCost = 10): Promise<T> {
    await this.waitForPoints(expectedCost);
    const response = await this.ctx.http.post<GraphqlAnswer<T>>(graphqlPath(this.ctx.config), { query, variables });
    this.noteVersion(response.headers['x-shopify-api-version']);
    const answer = response.data;
    if (answer === null || typeof answer !== 'object') {
      throw new TransientError('Shopify answered the GraphQL query without a JSON body');
    }
    const cost = answer.extensions?.cost;
    if (cost?.throttleStatus) {
      this.status = cost.throttleStatus;
      this.seenAt = Date.now();
      this.spent.requested += cost.requestedQueryCost;
      this.spent.actual += cost.actualQueryCost ?? 0;
      this.spent.queries += 1;
    }
    if (answer.errors !== undefined) throw graphqlFailure(answer.errors);
    if (answer.data === undefined || answer.data === null) {
      throw new TransientError('Shopify answered the GraphQL query without data');
    }
    return answer.data;
  }

  private async waitForPoints(cost: number): Promise<void> {
    if (!this.status || this.status.restoreRate <= 0) return;
    const needed = Math.min(cost, this.status.maximumAvailable);
    const available = estimatedAvailable(this.status, this.seenAt, Date.now());
    if (available >= needed) return;
    const waitMs = Math.ceil(((needed - available) / this.status.restoreRate) * 1000);
    this.spent.waitedMs += waitMs;
    this.ctx.log.debug(`Shopify cost bucket at ${Math.floor(available)} points: waiting ${waitMs} ms for ${needed}`);
    await abortableSleep(waitMs, this.ctx.signal);
  }

  private noteVersion(served: unknown): void {
    const requested = this.ctx.config.apiVersion ?? DEFAULT_API_VERSION;
    if (this.warnedVersion || typeof served !== 'string' || served === requested) return;
    this.warnedVersion = true;
    this.ctx.log.warn(
      `Shopify served API version ${served} instead of ${requested} (past its support window?): set apiVersion to a supported version`,
    );
  }
}

function graphqlFailure(errors: GraphqlAnswer<unknown>['errors']): Error {
  const list = Array.isArray(errors)
    ? errors
    : [{ message: typeof errors === 'string' ? errors : JSON.stringify(errors) }];
  const message = list
    .map((e) => e?.message ?? 'unknown error')
    .join('; ')
    .slice(0, 500);
  const denied = list.find((e) => e?.extensions?.code === 'ACCESS_DENIED');
  if (denied) {
    return new ConfigurationError(
      `Shopify denied access: ${denied.message ?? 'access denied'}: give the app that scope and update accessToken`,
    );
  }
  const tooExpensive = list.find((e) => e?.extensions?.code === 'MAX_COST_EXCEEDED');
  if (tooExpensive) {
    return new QueryTooExpensiveError(
      `Shopify refused a query as too expensive: ${message}`,
      Number(tooExpensive.extensions?.cost ?? 0),
      Number(tooExpensive.extensions?.maxCost ?? 1000),
    );
  }
  if (list.some((e) => e?.extensions?.code === 'INTERNAL_SERVER_ERROR' || e?.extensions?.code === 'THROTTLED')) {
    return new TransientError(`Shopify GraphQL error: ${message}`);
  }
  return new SystemError(`Shopify GraphQL error: ${message}`);
}
