import { buildSchema, type GraphQLSchema } from 'graphql';

/**
 * The part of the Shopify GraphQL Admin API (2026-10) the emulator serves: customers and orders (line items,
 * refunds, payment gateways), `node`, the shop, and bulk query operations. Names, types and nullability follow
 * the Admin API reference; fields left out are answered as the real API answers a field that does not exist.
 */
export const SHOPIFY_ADMIN_SDL = /* GraphQL */ `
  scalar DateTime
  scalar Decimal
  scalar URL
  scalar UnsignedInt64

  interface Node {
    id: ID!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  enum CurrencyCode {
    USD
    EUR
    GBP
    CAD
    JPY
    BRL
  }

  type MoneyV2 {
    amount: Decimal!
    currencyCode: CurrencyCode!
  }

  type MoneyBag {
    shopMoney: MoneyV2!
    presentmentMoney: MoneyV2!
  }

  enum CountryCode {
    US
    GB
    FR
    DE
    IT
    ES
    NL
    CA
    JP
    BR
  }

  type MailingAddress implements Node {
    id: ID!
    firstName: String
    lastName: String
    address1: String
    city: String
    zip: String
    phone: String
    country: String
    countryCodeV2: CountryCode
  }

  enum CustomerEmailAddressMarketingState {
    INVALID
    NOT_SUBSCRIBED
    PENDING
    SUBSCRIBED
    UNSUBSCRIBED
  }

  enum CustomerMarketingOptInLevel {
    CONFIRMED_OPT_IN
    SINGLE_OPT_IN
    UNKNOWN
  }

  type CustomerEmailAddress {
    emailAddress: String!
    marketingState: CustomerEmailAddressMarketingState!
    marketingOptInLevel: CustomerMarketingOptInLevel
    marketingUpdatedAt: DateTime
  }

  type CustomerPhoneNumber {
    phoneNumber: String!
    marketingState: String!
  }

  enum CustomerState {
    DECLINED
    DISABLED
    ENABLED
    INVITED
  }

  type Customer implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    firstName: String
    lastName: String
    displayName: String!
    defaultEmailAddress: CustomerEmailAddress
    defaultPhoneNumber: CustomerPhoneNumber
    defaultAddress: MailingAddress
    createdAt: DateTime!
    updatedAt: DateTime!
    numberOfOrders: UnsignedInt64!
    amountSpent: MoneyV2!
    state: CustomerState!
    tags: [String!]!
    verifiedEmail: Boolean!
    orders(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean): OrderConnection!
  }

  type CustomerEdge {
    cursor: String!
    node: Customer!
  }

  type CustomerConnection {
    edges: [CustomerEdge!]!
    nodes: [Customer!]!
    pageInfo: PageInfo!
  }

  enum CustomerSortKeys {
    CREATED_AT
    ID
    NAME
    UPDATED_AT
  }

  type ProductVariant implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
  }

  type Product implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
  }

  type LineItem implements Node {
    id: ID!
    title: String!
    name: String!
    sku: String
    quantity: Int!
    variant: ProductVariant
    product: Product
    originalUnitPriceSet: MoneyBag!
    originalTotalSet: MoneyBag!
  }

  type LineItemEdge {
    cursor: String!
    node: LineItem!
  }

  type LineItemConnection {
    edges: [LineItemEdge!]!
    nodes: [LineItem!]!
    pageInfo: PageInfo!
  }

  type Refund implements Node {
    id: ID!
    createdAt: DateTime
    note: String
    totalRefundedSet: MoneyBag!
  }

  enum OrderDisplayFinancialStatus {
    AUTHORIZED
    EXPIRED
    PAID
    PARTIALLY_PAID
    PARTIALLY_REFUNDED
    PENDING
    REFUNDED
    VOIDED
  }

  enum OrderDisplayFulfillmentStatus {
    FULFILLED
    IN_PROGRESS
    ON_HOLD
    OPEN
    PARTIALLY_FULFILLED
    PENDING_FULFILLMENT
    RESTOCKED
    SCHEDULED
    UNFULFILLED
  }

  type Order implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    email: String
    phone: String
    createdAt: DateTime!
    updatedAt: DateTime!
    processedAt: DateTime!
    closedAt: DateTime
    cancelledAt: DateTime
    closed: Boolean!
    displayFinancialStatus: OrderDisplayFinancialStatus
    displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
    currencyCode: CurrencyCode!
    totalPriceSet: MoneyBag!
    subtotalPriceSet: MoneyBag
    totalTaxSet: MoneyBag
    totalRefundedSet: MoneyBag!
    paymentGatewayNames: [String!]!
    customer: Customer
    billingAddress: MailingAddress
    shippingAddress: MailingAddress
    lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean): LineItemConnection!
    refunds(first: Int): [Refund!]!
  }

  type OrderEdge {
    cursor: String!
    node: Order!
  }

  type OrderConnection {
    edges: [OrderEdge!]!
    nodes: [Order!]!
    pageInfo: PageInfo!
  }

  enum OrderSortKeys {
    CREATED_AT
    ID
    PROCESSED_AT
    UPDATED_AT
  }

  enum CountPrecision {
    AT_LEAST
    EXACT
  }

  type Count {
    count: Int!
    precision: CountPrecision!
  }

  type AccessScope {
    handle: String!
    description: String!
  }

  type AppInstallation implements Node {
    id: ID!
    accessScopes: [AccessScope!]!
  }

  type Shop {
    id: ID!
    name: String!
    myshopifyDomain: String!
    currencyCode: CurrencyCode!
  }

  enum BulkOperationStatus {
    CANCELED
    CANCELING
    COMPLETED
    CREATED
    EXPIRED
    FAILED
    RUNNING
  }

  enum BulkOperationErrorCode {
    ACCESS_DENIED
    INTERNAL_SERVER_ERROR
    TIMEOUT
  }

  enum BulkOperationType {
    MUTATION
    QUERY
  }

  type BulkOperation implements Node {
    id: ID!
    status: BulkOperationStatus!
    errorCode: BulkOperationErrorCode
    type: BulkOperationType!
    query: String!
    createdAt: DateTime!
    completedAt: DateTime
    objectCount: UnsignedInt64!
    rootObjectCount: UnsignedInt64!
    fileSize: UnsignedInt64
    url: URL
    partialDataUrl: URL
  }

  enum BulkOperationUserErrorCode {
    INVALID
    LIMIT_REACHED
    OPERATION_IN_PROGRESS
  }

  type BulkOperationUserError {
    field: [String!]
    message: String!
    code: BulkOperationUserErrorCode
  }

  type BulkOperationRunQueryPayload {
    bulkOperation: BulkOperation
    userErrors: [BulkOperationUserError!]!
  }

  type BulkOperationCancelPayload {
    bulkOperation: BulkOperation
    userErrors: [BulkOperationUserError!]!
  }

  type QueryRoot {
    shop: Shop!
    node(id: ID!): Node
    nodes(ids: [ID!]!): [Node]!
    customer(id: ID!): Customer
    order(id: ID!): Order
    customers(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      sortKey: CustomerSortKeys = ID
      reverse: Boolean = false
    ): CustomerConnection!
    orders(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      sortKey: OrderSortKeys = PROCESSED_AT
      reverse: Boolean = false
    ): OrderConnection!
    currentAppInstallation: AppInstallation!
    customersCount(query: String, limit: Int = 10000): Count
    ordersCount(query: String, limit: Int = 10000): Count
    bulkOperation(id: ID!): BulkOperation
    currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
  }

  type Mutation {
    bulkOperationRunQuery(query: String!, groupObjects: Boolean! = false): BulkOperationRunQueryPayload
    bulkOperationCancel(id: ID!): BulkOperationCancelPayload
  }

  schema {
    query: QueryRoot
    mutation: Mutation
  }
`;

let built: GraphQLSchema | undefined;

/** The emulator's schema, built once. */
export function shopifyAdminSchema(): GraphQLSchema {
  built ??= buildSchema(SHOPIFY_ADMIN_SDL);
  return built;
}

/** Connection types: their cost is sized by `first`/`last`, and bulk operations split their nodes into lines. */
export function isConnectionType(typeName: string): boolean {
  return typeName.endsWith('Connection');
}
