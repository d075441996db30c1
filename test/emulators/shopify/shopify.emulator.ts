import { createHmac, randomBytes } from 'node:crypto';
import {
  executeSync,
  getNamedType,
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';
import { RecordTable, type Seed } from '../common/table.js';
import { actualCost, MAX_QUERY_COST, operationCost, type ArgumentProblem, type CostContext } from './shopify.cost.js';
import { shopifyTime, type ShopifyCustomer, type ShopifyOrder } from './shopify.data.js';
import { gid, idOfGid, rootValue, utc, type ResolverContext } from './shopify.resolvers.js';
import { isConnectionType, shopifyAdminSchema } from './shopify.schema.js';

/** Scopes of a token that was not given any: everything the connector and the tests read. */
export const ALL_SCOPES = ['read_customers', 'read_orders', 'read_all_orders'] as const;
/** Stable versions served: older ones fall forward to the oldest supported, as Shopify does. */
export const SUPPORTED_VERSIONS = ['2026-01', '2026-04', '2026-07', '2026-10'] as const;
const DOCS = 'https://shopify.dev/api/usage/rate-limits';

export interface ShopifyEmulatorOptions extends EmulatorOptions {
  /** Accepted `X-Shopify-Access-Token` values, with every read scope (default `['shpat_demo_token']`). */
  tokens?: string[];
  /** Tokens with only the given scopes (e.g. `{ shpat_no_orders: ['read_customers'] }`). */
  scopedTokens?: Record<string, string[]>;
  customers?: Seed<ShopifyCustomer>;
  orders?: Seed<ShopifyOrder>;
  /**
   * The app's cost bucket on this shop (default: 2,000 points restoring 100/s, a Standard plan; Plus restores
   * 1,000/s into 20,000). `false` turns throttling off (costs are still computed and reported).
   */
  rateLimit?: { maximumAvailable: number; restoreRate: number } | false;
  /** How long a bulk operation runs before it completes (default 30 ms). */
  bulkDurationMs?: number;
  /** How long a completed bulk operation's result URL stays valid (default 7 days). */
  bulkResultTtlMs?: number;
  shopName?: string;
}

export class ShopifyStore<T extends ShopifyCustomer | ShopifyOrder> {
  readonly table = new RecordTable<T>((r) => ({ id: String(r.id), modifiedMs: Date.parse(r.updated_at) }));

  constructor(seed: Seed<T> | undefined) {
    if (seed) this.table.load(seed);
  }

  get count(): number {
    return this.table.count;
  }

  get(id: number): T | undefined {
    const row = this.table.rowOf(String(id));
    return row === undefined ? undefined : this.table.get(row);
  }

  insert(record: T): T {
    this.table.insert(record);
    return record;
  }

  /** Changes fields and bumps `updated_at` to `at` (default now). */
  update(id: number, fields: Partial<T>, at = Date.now()): T {
    const row = this.table.rowOf(String(id));
    if (row === undefined) throw new Error(`no record ${id}`);
    const next = { ...this.table.get(row), ...fields, id, updated_at: shopifyTime(at) };
    this.table.replace(row, next);
    return next;
  }
}

/** Shopify's calculated-cost leaky bucket: `maximumAvailable` points, `restoreRate` points back per second. */
export class CostBucket {
  private available: number;
  private last = Date.now();

  constructor(
    readonly maximumAvailable: number,
    readonly restoreRate: number,
  ) {
    this.available = maximumAvailable;
  }

  currentlyAvailable(now = Date.now()): number {
    this.available = Math.min(this.maximumAvailable, this.available + ((now - this.last) / 1000) * this.restoreRate);
    this.last = now;
    return this.available;
  }

  /** Takes `cost` points; false (nothing taken) when fewer are available. */
  tryTake(cost: number, now = Date.now()): boolean {
    if (this.currentlyAvailable(now) < cost) return false;
    this.available -= cost;
    return true;
  }

  /** Gives back points a query was charged for but did not use (requested minus actual cost). */
  refund(points: number): void {
    this.available = Math.min(this.maximumAvailable, this.available + points);
  }

  status() {
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: Math.floor(this.currentlyAvailable()),
      restoreRate: this.restoreRate,
    };
  }
}

interface BulkOperationRecord {
  n: number;
  query: string;
  groupObjects: boolean;
  createdMs: number;
  completesMs: number;
  canceled: boolean;
  errorCode: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | null;
  lines: string[];
  rootObjectCount: number;
  signature: string;
  origin: string;
}

export interface ShopifyState {
  customers: ShopifyStore<ShopifyCustomer>;
  orders: ShopifyStore<ShopifyOrder>;
  tokens: Map<string, Set<string>>;
  /** THROTTLED answers sent because the bucket held less than the requested cost. */
  throttled: number;
  /** Points charged (actual cost) and requested over every answered query. */
  cost: { requested: number; actual: number; queries: number };
  /** The bucket (undefined when throttling is off). */
  bucket: CostBucket | undefined;
  bulkOperations: Map<number, BulkOperationRecord>;
  /** `frozen` answers 402 (unpaid), `fraudulent` 403, `locked` 423. */
  shopStatus: 'active' | 'frozen' | 'fraudulent' | 'locked';
  /**
   * The next this many requests answer HTTP 429 with `Retry-After`, as Shopify does when a shop is flooded beyond
   * what cost throttling covers (cost throttling itself answers 200 with `THROTTLED`).
   */
  tooManyRequests: number;
}

export type ShopifyEmulator = Emulator<ShopifyState>;

const INVALID_TOKEN_BODY = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
const SHOP_STATUS_REPLIES: Record<Exclude<ShopifyState['shopStatus'], 'active'>, Reply> = {
  frozen: { status: 402, json: { errors: 'Unavailable Shop' } },
  fraudulent: { status: 403, json: { errors: 'Forbidden' } },
  locked: { status: 423, json: { errors: 'This shop is unavailable' } },
};

/**
 * Starts a Shopify GraphQL Admin API emulator: `POST /admin/api/{version}/graphql.json` parsed and validated with
 * `graphql`, query cost computed as Shopify documents it (requested before running, actual after, connection
 * `first` multipliers, 1,000 at most), a cost leaky bucket answering `THROTTLED`, search syntax on `query:`,
 * bulk query operations with a JSONL result at a signed URL, Shopify's error shapes and fault injection.
 */
export async function startShopify(options: ShopifyEmulatorOptions = {}): Promise<ShopifyEmulator> {
  const tokens = new Map<string, Set<string>>();
  for (const token of options.tokens ?? ['shpat_demo_token']) tokens.set(token, new Set(ALL_SCOPES));
  for (const [token, scopes] of Object.entries(options.scopedTokens ?? {})) tokens.set(token, new Set(scopes));
  const state: ShopifyState = {
    customers: new ShopifyStore(options.customers),
    orders: new ShopifyStore(options.orders),
    tokens,
    throttled: 0,
    cost: { requested: 0, actual: 0, queries: 0 },
    bucket:
      options.rateLimit === false
        ? undefined
        : new CostBucket(options.rateLimit?.maximumAvailable ?? 2_000, options.rateLimit?.restoreRate ?? 100),
    bulkOperations: new Map(),
    shopStatus: 'active',
    tooManyRequests: 0,
  };
  const schema = shopifyAdminSchema();
  const shopName = options.shopName ?? 'plexus-demo';
  const bulkDurationMs = options.bulkDurationMs ?? 30;
  const bulkResultTtlMs = options.bulkResultTtlMs ?? 7 * 86_400_000;
  const signingKey = randomBytes(16);
  let bulkSequence = 0;

  const throttleStatus = () =>
    state.bucket?.status() ?? { maximumAvailable: 2_000, currentlyAvailable: 2_000, restoreRate: 100 };

  return startEmulator<ShopifyState>(
    {
      // Over GraphQL, Shopify says "throttled" in a 200: the bucket lacks the points this query asks for.
      throttled: (req) => {
        const requested = 100;
        const status = throttleStatus();
        return throttledReply(
          requested,
          {
            ...status,
            currentlyAvailable: Math.max(0, requested - status.restoreRate),
          },
          req,
        );
      },
      serverError: (_req, status) => ({
        status,
        json: { errors: status === 503 ? 'Service Unavailable' : 'Internal Server Error' },
      }),
      expiredToken: () => ({ status: 401, json: INVALID_TOKEN_BODY }),
      handle: (req) => route(req),
    },
    state,
    options,
  );

  function throttledReply(requested: number, status: ReturnType<typeof throttleStatus>, _req?: EmulatorRequest): Reply {
    state.throttled++;
    return {
      status: 200,
      json: {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: DOCS } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status } },
      },
    };
  }

  function route(req: EmulatorRequest): Reply {
    const download = /^\/bulk-operation-results\/(\d+)\.jsonl$/.exec(req.path);
    if (download && req.method === 'GET') return downloadBulkResult(req, Number(download[1]));
    const match = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/.exec(req.path);
    if (!match) return { status: 404, json: { errors: 'Not Found' } };
    if (req.method !== 'POST') return { status: 405, json: { errors: 'Method Not Allowed' } };
    const token = req.header('x-shopify-access-token');
    const scopes = token === undefined ? undefined : state.tokens.get(token);
    if (!scopes) return { status: 401, json: INVALID_TOKEN_BODY };
    if (state.shopStatus !== 'active') return SHOP_STATUS_REPLIES[state.shopStatus];
    if (state.tooManyRequests > 0) {
      state.tooManyRequests--;
      return { status: 429, headers: { 'Retry-After': '1.0' }, json: { errors: 'Too Many Requests' } };
    }
    const version = servedVersion(match[1]);
    const reply = graphql(req, req.takeFault('permission') ? new Set<string>() : scopes, version);
    return { ...reply, headers: { 'X-Shopify-API-Version': version, ...reply.headers } };
  }

  function graphql(req: EmulatorRequest, scopes: ReadonlySet<string>, version: string): Reply {
    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      const contentType = req.header('content-type') ?? '';
      body = contentType.includes('application/graphql')
        ? { query: req.rawBody.toString('utf8') }
        : (req.json() as typeof body);
    } catch {
      return { status: 400, json: { errors: { query: 'Required parameter missing or invalid' } } };
    }
    if (typeof body?.query !== 'string' || body.query.trim() === '') {
      return { status: 400, json: { errors: { query: 'Required parameter missing or invalid' } } };
    }
    const variables =
      body.variables && typeof body.variables === 'object' ? (body.variables as Record<string, unknown>) : {};
    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (error) {
      const e = error as GraphQLError;
      return { status: 200, json: { errors: [{ message: e.message, locations: e.locations }] } };
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return { status: 200, json: { errors: invalid.map(shopifyValidationError) } };
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode =>
        d.kind === Kind.OPERATION_DEFINITION && (operationName === undefined || d.name?.value === operationName),
    )!;
    const costContext: CostContext = { schema, fragments: fragmentsOf(document), variables };
    const problems: ArgumentProblem[] = [];
    const requested = operationCost(costContext, operation, problems);
    if (problems.length > 0) {
      return {
        status: 200,
        json: {
          errors: problems.map((p) => ({ message: p.message, path: p.path, extensions: { code: 'BAD_REQUEST' } })),
        },
      };
    }
    if (requested > MAX_QUERY_COST) {
      return {
        status: 200,
        json: {
          errors: [
            {
              message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).\n\nSee ${DOCS} for more information on how the cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.`,
              extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST, documentation: DOCS },
            },
          ],
        },
      };
    }
    if (state.bucket && !state.bucket.tryTake(requested)) return throttledReply(requested, throttleStatus());

    const context: ResolverContext = {
      customers: state.customers.table,
      orders: state.orders.table,
      scopes,
      bulk: false,
      shopName,
      searchWarnings: [],
      bulkOperations: {
        run: (query, groupObjects) => runBulkQuery(query, groupObjects, scopes, version, req.origin),
        get: (id) => bulkView(idOfGid(id, 'BulkOperation')),
        current: () => bulkView(Math.max(0, ...state.bulkOperations.keys())),
        cancel: (id) => cancelBulk(idOfGid(id, 'BulkOperation')),
      },
    };
    const result = executeSync({
      schema,
      document,
      rootValue: rootValue(),
      contextValue: context,
      variableValues: variables,
      operationName,
    });
    const data = result.data ?? null;
    if (data) corruptOneNode(req, data);
    const actual =
      operation.operation === OperationTypeNode.MUTATION
        ? requested
        : Math.min(requested, actualCost(costContext, operation.selectionSet, schema.getQueryType()!, data));
    state.bucket?.refund(requested - actual);
    state.cost.requested += requested;
    state.cost.actual += actual;
    state.cost.queries += 1;
    const extensions: Record<string, unknown> = {
      cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: throttleStatus() },
    };
    if (context.searchWarnings.length > 0) extensions.search = context.searchWarnings;
    return {
      status: 200,
      json: {
        ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
        data,
        extensions,
      },
    };
  }

  /** Starts a bulk query: validated like Shopify does, run against a snapshot, completed after a short while. */
  function runBulkQuery(
    query: string,
    groupObjects: boolean,
    scopes: ReadonlySet<string>,
    version: string,
    origin: string,
  ): unknown {
    const userError = (message: string, code: 'INVALID' | 'OPERATION_IN_PROGRESS' = 'INVALID') => ({
      bulkOperation: null,
      userErrors: [{ field: ['query'], message, code }],
    });
    const now = Date.now();
    const running = [...state.bulkOperations.values()].filter((op) => !op.canceled && op.completesMs > now).length;
    const concurrent = version >= '2026-01' ? 5 : 1;
    if (running >= concurrent) {
      return userError(
        `A bulk query operation for this app and shop is already in progress${concurrent > 1 ? ` (${running} of ${concurrent})` : ''}.`,
        'OPERATION_IN_PROGRESS',
      );
    }
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return userError(`Invalid bulk query: ${(error as GraphQLError).message}`);
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return userError(`Invalid bulk query: ${shopifyValidationError(invalid[0]).message}`);
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (operations.length !== 1 || operations[0].operation !== OperationTypeNode.QUERY) {
      return userError('Invalid bulk query: the query must contain exactly one query operation.');
    }
    const operation = operations[0];
    const fragments = fragmentsOf(document);
    const rootFields = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
    if (rootFields.some((f) => f.name.value === 'node' || f.name.value === 'nodes')) {
      return userError('Bulk queries cannot contain a top level `node` or `nodes` field.');
    }
    const shape = connectionShape(operation.selectionSet, schema.getQueryType()!, fragments, 0);
    if (shape.count === 0) return userError('Bulk queries must contain at least 1 connection.');
    if (shape.count > 5) return userError('Bulk queries cannot contain more than 5 connections.');
    if (shape.depth > 2)
      return userError('Bulk queries cannot contain connections with a nesting depth greater than 2.');
    if (shape.parentsWithoutId.length > 0) {
      return userError(
        `The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': ${shape.parentsWithoutId.join(', ')}.`,
      );
    }

    const n = ++bulkSequence;
    const record: BulkOperationRecord = {
      n,
      query,
      groupObjects,
      createdMs: now,
      completesMs: now + bulkDurationMs,
      canceled: false,
      errorCode: null,
      lines: [],
      rootObjectCount: 0,
      signature: createHmac('sha256', signingKey).update(String(n)).digest('hex'),
      origin,
    };
    const result = executeSync({
      schema,
      document,
      rootValue: rootValue(),
      contextValue: {
        customers: state.customers.table,
        orders: state.orders.table,
        scopes,
        bulk: true,
        shopName,
        searchWarnings: [],
        bulkOperations: { run: () => null, get: () => null, current: () => null, cancel: () => null },
      } satisfies ResolverContext,
    });
    if (result.errors?.some((e) => e.extensions?.code === 'ACCESS_DENIED')) record.errorCode = 'ACCESS_DENIED';
    else if (result.errors?.length) record.errorCode = 'INTERNAL_SERVER_ERROR';
    else {
      const flat = flatten(operation.selectionSet, schema.getQueryType()!, fragments, result.data ?? {}, groupObjects);
      record.lines = flat.lines;
      record.rootObjectCount = flat.roots;
    }
    state.bulkOperations.set(n, record);
    return {
      bulkOperation: { ...(bulkView(n) as object), status: 'CREATED', completedAt: null, url: null },
      userErrors: [],
    };
  }

  function bulkView(n: number | undefined): unknown {
    const op = n === undefined ? undefined : state.bulkOperations.get(n);
    if (!op) return null;
    const now = Date.now();
    const done = now >= op.completesMs;
    const expired = done && now >= op.completesMs + bulkResultTtlMs;
    const status = op.canceled
      ? 'CANCELED'
      : !done
        ? 'RUNNING'
        : op.errorCode
          ? 'FAILED'
          : expired
            ? 'EXPIRED'
            : 'COMPLETED';
    const completed = status === 'COMPLETED';
    const size = op.lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    return {
      __typename: 'BulkOperation',
      id: gid('BulkOperation', op.n),
      status,
      errorCode: status === 'FAILED' ? op.errorCode : null,
      type: 'QUERY',
      query: op.query,
      createdAt: utc(new Date(op.createdMs).toISOString()),
      completedAt: done && !op.canceled ? utc(new Date(op.completesMs).toISOString()) : null,
      objectCount: String(done ? op.lines.length : 0),
      rootObjectCount: String(done ? op.rootObjectCount : 0),
      fileSize: completed && op.lines.length > 0 ? String(size) : null,
      // Shopify gives no URL for an operation that found nothing.
      url:
        completed && op.lines.length > 0
          ? `${op.origin}/bulk-operation-results/${op.n}.jsonl?X-Goog-Expires=${Math.round(bulkResultTtlMs / 1000)}&X-Goog-Signature=${op.signature}`
          : null,
      partialDataUrl: null,
    };
  }

  function cancelBulk(n: number | undefined): unknown {
    const op = n === undefined ? undefined : state.bulkOperations.get(n);
    if (!op) return { bulkOperation: null, userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }] };
    if (Date.now() >= op.completesMs) {
      return {
        bulkOperation: bulkView(n),
        userErrors: [{ field: null, message: 'A bulk operation cannot be canceled when it is completed' }],
      };
    }
    op.canceled = true;
    return { bulkOperation: bulkView(n), userErrors: [] };
  }

  function downloadBulkResult(req: EmulatorRequest, n: number): Reply {
    const op = state.bulkOperations.get(n);
    const xml = (status: number, code: string, message: string): Reply => ({
      status,
      headers: { 'Content-Type': 'application/xml; charset=UTF-8' },
      body: `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    });
    if (!op || req.query.get('X-Goog-Signature') !== op.signature) {
      return xml(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    if (Date.now() >= op.completesMs + bulkResultTtlMs) return xml(400, 'ExpiredToken', 'Invalid argument.');
    const lines = [...op.lines];
    if (lines.length > 0 && req.takeFault('malformed-record')) {
      const roots = lines.map((line, i) => ({ line, i })).filter(({ line }) => !line.includes('"__parentId"'));
      const { line, i } = roots[Math.floor(roots.length / 2)];
      const id = (JSON.parse(line) as { id: string }).id;
      lines[i] = JSON.stringify({ id, updatedAt: 'not-a-date', createdAt: null });
      req.noteFault(id);
    }
    const body = Buffer.from(lines.map((line) => `${line}\n`).join(''));
    return {
      status: 200,
      headers: { 'Content-Type': 'application/jsonl', 'Content-Length': String(body.length) },
      body,
    };
  }

  /** Connections in a bulk query: how many, how deeply nested, and which nested ones lack their parent's `id`. */
  function connectionShape(
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
    fragments: Record<string, FragmentDefinitionNode>,
    depth: number,
    path: string[] = [],
  ): { count: number; depth: number; parentsWithoutId: string[] } {
    const out = { count: 0, depth, parentsWithoutId: [] as string[] };
    for (const field of expand(set, fragments)) {
      const def = 'getFields' in parent ? parent.getFields()[field.name.value] : undefined;
      if (!def || !field.selectionSet) continue;
      const named = getNamedType(def.type) as GraphQLCompositeType;
      const here = [...path, field.name.value];
      if (isConnectionType(named.name)) {
        out.count++;
        out.depth = Math.max(out.depth, depth + 1);
        const node = schema.getType(named.name.replace(/Connection$/, '')) as GraphQLCompositeType;
        for (const nodeSet of connectionNodeSelections(field.selectionSet, fragments)) {
          const hasNested = expand(nodeSet, fragments).some((f) => {
            const d = 'getFields' in node ? node.getFields()[f.name.value] : undefined;
            return d !== undefined && isConnectionType(getNamedType(d.type).name);
          });
          const hasId = expand(nodeSet, fragments).some((f) => f.name.value === 'id' && !f.alias);
          if (hasNested && !hasId) out.parentsWithoutId.push(here.join('.'));
          const inner = connectionShape(nodeSet, node, fragments, depth + 1, here);
          out.count += inner.count;
          out.depth = Math.max(out.depth, inner.depth);
          out.parentsWithoutId.push(...inner.parentsWithoutId);
        }
      } else {
        const inner = connectionShape(field.selectionSet, named, fragments, depth, here);
        out.count += inner.count;
        out.depth = Math.max(out.depth, inner.depth);
        out.parentsWithoutId.push(...inner.parentsWithoutId);
      }
    }
    return out;
  }

  /**
   * The JSONL of a bulk query: each node of a connection is one line without its nested connections, whose nodes
   * follow as lines of their own carrying `__parentId`. With `groupObjects` a node's children come right after
   * it; without, they come after every top-level node (Shopify only promises "after the parent").
   */
  function flatten(
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
    fragments: Record<string, FragmentDefinitionNode>,
    data: Record<string, unknown>,
    groupObjects: boolean,
  ): { lines: string[]; roots: number } {
    const lines: string[] = [];
    const deferred: string[] = [];
    let roots = 0;
    const visit = (
      value: Record<string, unknown>,
      selection: SelectionSetNode,
      type: GraphQLCompositeType,
      parentId: string | undefined,
      depth: number,
    ): void => {
      const line: Record<string, unknown> = { ...value };
      const children: Array<() => void> = [];
      for (const field of expand(selection, fragments)) {
        const def = 'getFields' in type ? type.getFields()[field.name.value] : undefined;
        const key = field.alias?.value ?? field.name.value;
        if (!def || !field.selectionSet || !isConnectionType(getNamedType(def.type).name)) continue;
        delete line[key];
        const named = getNamedType(def.type).name;
        const node = schema.getType(named.replace(/Connection$/, '')) as GraphQLCompositeType;
        const connection = value[key] as {
          edges?: Array<{ node: Record<string, unknown> }>;
          nodes?: Array<Record<string, unknown>>;
        } | null;
        const nodeSets = connectionNodeSelections(field.selectionSet, fragments);
        const items = connection?.nodes ?? connection?.edges?.map((e) => e.node) ?? [];
        for (const item of items) {
          children.push(() => visit(item, nodeSets[0], node, value.id as string, depth + 1));
        }
      }
      if (parentId !== undefined) line.__parentId = parentId;
      const text = JSON.stringify(line);
      if (depth === 0) {
        roots++;
        lines.push(text);
      } else (groupObjects ? lines : deferred).push(text);
      for (const child of children) child();
    };
    for (const field of expand(set, fragments)) {
      const def = 'getFields' in parent ? parent.getFields()[field.name.value] : undefined;
      if (!def || !field.selectionSet || !isConnectionType(getNamedType(def.type).name)) continue;
      const key = field.alias?.value ?? field.name.value;
      const node = schema.getType(getNamedType(def.type).name.replace(/Connection$/, '')) as GraphQLCompositeType;
      const connection = data[key] as {
        edges?: Array<{ node: Record<string, unknown> }>;
        nodes?: Array<Record<string, unknown>>;
      } | null;
      const nodeSet = connectionNodeSelections(field.selectionSet, fragments)[0];
      for (const item of connection?.nodes ?? connection?.edges?.map((e) => e.node) ?? [])
        visit(item, nodeSet, node, undefined, 0);
    }
    return { lines: [...lines, ...deferred], roots };
  }
}

/** The version Shopify serves for a requested one: a supported version as is, an older one the oldest supported. */
function servedVersion(requested: string): string {
  if (requested === 'unstable' || (SUPPORTED_VERSIONS as readonly string[]).includes(requested)) return requested;
  if (requested < SUPPORTED_VERSIONS[0]) return SUPPORTED_VERSIONS[0];
  // A future version (a release candidate) is served as the newest stable one.
  return SUPPORTED_VERSIONS.at(-1)!;
}

function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  return Object.fromEntries(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
}

/** Fields of a selection set with inline fragments and spreads expanded. */
function expand(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>): FieldNode[] {
  return set.selections.flatMap((s) =>
    s.kind === Kind.FIELD
      ? [s]
      : s.kind === Kind.INLINE_FRAGMENT
        ? expand(s.selectionSet, fragments)
        : fragments[s.name.value]
          ? expand(fragments[s.name.value].selectionSet, fragments)
          : [],
  );
}

/** The node selections of a connection: under `edges { node }` and `nodes`. */
function connectionNodeSelections(
  set: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
): SelectionSetNode[] {
  const out: SelectionSetNode[] = [];
  for (const field of expand(set, fragments)) {
    if (field.name.value === 'nodes' && field.selectionSet) out.push(field.selectionSet);
    if (field.name.value === 'edges' && field.selectionSet) {
      for (const edgeField of expand(field.selectionSet, fragments)) {
        if (edgeField.name.value === 'node' && edgeField.selectionSet) out.push(edgeField.selectionSet);
      }
    }
  }
  return out.length > 0 ? out : [{ kind: Kind.SELECTION_SET, selections: [] }];
}

/** graphql-js validation messages in the words of Shopify's Ruby GraphQL server. */
function shopifyValidationError(error: GraphQLError): GraphQLFormattedError {
  const undefinedField = /^Cannot query field "(\w+)" on type "(\w+)"\./.exec(error.message);
  if (undefinedField) {
    const [, fieldName, typeName] = undefinedField;
    return {
      message: `Field '${fieldName}' doesn't exist on type '${typeName}'`,
      locations: error.locations,
      extensions: { code: 'undefinedField', typeName, fieldName },
    };
  }
  const unknownArg = /^Unknown argument "(\w+)" on field "(\w+)\.(\w+)"\./.exec(error.message);
  if (unknownArg) {
    const [, argumentName, typeName, fieldName] = unknownArg;
    return {
      message: `Field '${fieldName}' doesn't accept argument '${argumentName}'`,
      locations: error.locations,
      extensions: { code: 'argumentNotAccepted', name: fieldName, typeName, argumentName },
    };
  }
  return { message: error.message, locations: error.locations };
}

/** The `malformed-record` fault on a page: the middle node of the first non-empty connection loses its dates. */
function corruptOneNode(req: EmulatorRequest, data: Record<string, unknown>): void {
  for (const value of Object.values(data)) {
    const connection = value as {
      nodes?: Array<Record<string, unknown>>;
      edges?: Array<{ node: Record<string, unknown> }>;
    };
    const nodes = connection?.nodes ?? connection?.edges?.map((e) => e.node);
    if (!Array.isArray(nodes) || nodes.length === 0) continue;
    // Only an answer with records can carry a malformed one: the fault waits for such a page.
    if (!req.takeFault('malformed-record')) return;
    const node = nodes[Math.floor(nodes.length / 2)];
    node.updatedAt = 'not-a-date';
    node.createdAt = null;
    req.noteFault(String(node.id));
    return;
  }
}
