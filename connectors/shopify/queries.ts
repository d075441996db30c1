/**
 * The GraphQL the connector sends, and what each query costs by Shopify's rules (objects 1, scalars 0, a connection
 * 2 plus `first` times one node). The paged reads size `first` from these costs so a page stays under the
 * 1,000-point single-query limit; the connector spec checks them against the emulator's own calculation.
 */

/** Shopify's limit on the requested cost of one query. */
export const MAX_QUERY_COST = 1000;

const CUSTOMER_FIELDS = `
  id
  firstName
  lastName
  createdAt
  updatedAt
  numberOfOrders
  amountSpent { amount currencyCode }
  defaultEmailAddress { emailAddress marketingState marketingUpdatedAt }
  defaultPhoneNumber { phoneNumber }
  defaultAddress { countryCodeV2 }
`;
/** The customer 1, amountSpent, defaultEmailAddress, defaultPhoneNumber, defaultAddress 1 each. */
export const CUSTOMER_NODE_COST = 5;

const ORDER_FIELDS = `
  id
  name
  email
  phone
  createdAt
  updatedAt
  cancelledAt
  displayFinancialStatus
  currencyCode
  paymentGatewayNames
  totalPriceSet { shopMoney { amount currencyCode } }
  subtotalPriceSet { shopMoney { amount } }
  totalTaxSet { shopMoney { amount } }
  totalRefundedSet { shopMoney { amount } }
  customer {
    id
    defaultEmailAddress { emailAddress }
    defaultPhoneNumber { phoneNumber }
    defaultAddress { countryCodeV2 }
  }
  refunds { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
`;

const LINE_ITEM_FIELDS = `
  id
  title
  sku
  quantity
  variant { id }
  product { id }
  originalUnitPriceSet { shopMoney { amount } }
`;
/** A line item 1, variant, product 1 each, originalUnitPriceSet and its shopMoney 2. */
export const LINE_ITEM_NODE_COST = 5;
/** Line items read with each order of a page; an order with more has the rest read on its own. */
export const LINE_ITEMS_PER_ORDER = 5;
/**
 * The order 1, four money bags 2 each, the customer and its three objects 4, the refunds list 3, and the first
 * line items (2 + 5 × 5).
 */
export const ORDER_NODE_COST = 1 + 8 + 4 + 3 + (2 + LINE_ITEMS_PER_ORDER * LINE_ITEM_NODE_COST);

/** Incremental pages: oldest change first, from an inclusive `updated_at:>=` search. */
export const CUSTOMERS_PAGE = `
  query CustomersPage($first: Int!, $after: String, $query: String) {
    customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
      pageInfo { hasNextPage endCursor }
      nodes { ${CUSTOMER_FIELDS} }
    }
  }
`;

export const ORDERS_PAGE = `
  query OrdersPage($first: Int!, $after: String, $query: String) {
    orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
      pageInfo { hasNextPage endCursor }
      nodes {
        ${ORDER_FIELDS}
        lineItems(first: ${LINE_ITEMS_PER_ORDER}) { pageInfo { hasNextPage endCursor } nodes { ${LINE_ITEM_FIELDS} } }
      }
    }
  }
`;

/** The rest of an order's line items, past the first page read with the order. */
export const ORDER_LINE_ITEMS = `
  query OrderLineItems($id: ID!, $first: Int!, $after: String) {
    order(id: $id) {
      lineItems(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${LINE_ITEM_FIELDS} } }
    }
  }
`;
/** Line items asked for per follow-up query: 1 (order) + 2 + 150 × 5 = 753 points. */
export const LINE_ITEMS_PAGE = 150;

/** Full syncs: one bulk query per stream; line items come as their own JSONL lines after their order. */
export function bulkQuery(stream: 'customers' | 'orders', search: string | undefined): string {
  const args = search ? `(query: ${JSON.stringify(search)})` : '';
  if (stream === 'customers') return `{ customers${args} { edges { node { ${CUSTOMER_FIELDS} } } } }`;
  return `{ orders${args} { edges { node { ${ORDER_FIELDS} lineItems { edges { node { ${LINE_ITEM_FIELDS} } } } } } } }`;
}

/** How many records changed since the checkpoint, counted up to `limit` (1 point). */
export function countQuery(stream: 'customers' | 'orders'): string {
  return `query Changes($query: String!, $limit: Int!) { count: ${stream}Count(query: $query, limit: $limit) { count precision } }`;
}

export const RUN_BULK_QUERY = `
  mutation RunBulkQuery($query: String!) {
    bulkOperationRunQuery(query: $query, groupObjects: true) {
      bulkOperation { id status createdAt }
      userErrors { field message code }
    }
  }
`;

export const BULK_OPERATION = `
  query BulkOperation($id: ID!) {
    node(id: $id) {
      ... on BulkOperation { id status errorCode createdAt completedAt objectCount rootObjectCount url partialDataUrl }
    }
  }
`;

/** The scopes the token was granted (to tell whether orders older than 60 days are visible). */
export const ACCESS_SCOPES = `query AccessScopes { currentAppInstallation { accessScopes { handle } } }`;

/** `check`: the shop, and one record of each stream to prove the read_customers and read_orders scopes. */
export const CHECK_ACCESS = `
  query CheckAccess {
    shop { name }
    customers(first: 1) { nodes { id } }
    orders(first: 1) { nodes { id } }
  }
`;

/** Whitespace collapsed: the query text is sent on every page. */
export function compact(query: string): string {
  return query.replace(/\s+/g, ' ').trim();
}
