/** The parts of Shopify GraphQL Admin API objects the connector reads (the streams' records). */

export interface ShopifyMoney {
  amount?: string | null;
  currencyCode?: string | null;
}

export interface ShopifyMoneyBag {
  shopMoney?: ShopifyMoney | null;
}

export interface ShopifyCustomerNode {
  /** `gid://shopify/Customer/<id>` */
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  createdAt?: string | null;
  updatedAt: string;
  /** UnsignedInt64, serialised as a string. */
  numberOfOrders?: string | number | null;
  amountSpent?: ShopifyMoney | null;
  defaultEmailAddress?: {
    emailAddress?: string | null;
    /** SUBSCRIBED, NOT_SUBSCRIBED, UNSUBSCRIBED, PENDING, INVALID… */
    marketingState?: string | null;
    marketingUpdatedAt?: string | null;
  } | null;
  defaultPhoneNumber?: { phoneNumber?: string | null } | null;
  defaultAddress?: { countryCodeV2?: string | null } | null;
}

export interface ShopifyLineItemNode {
  id?: string;
  title?: string | null;
  sku?: string | null;
  quantity?: number | null;
  variant?: { id: string } | null;
  product?: { id: string } | null;
  originalUnitPriceSet?: ShopifyMoneyBag | null;
}

export interface ShopifyRefundNode {
  id: string;
  createdAt?: string | null;
  totalRefundedSet?: ShopifyMoneyBag | null;
}

export interface ShopifyOrderNode {
  /** `gid://shopify/Order/<id>` */
  id: string;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  createdAt: string;
  updatedAt: string;
  cancelledAt?: string | null;
  /** PAID, PARTIALLY_REFUNDED, REFUNDED, VOIDED… */
  displayFinancialStatus?: string | null;
  currencyCode?: string | null;
  paymentGatewayNames?: string[] | null;
  totalPriceSet?: ShopifyMoneyBag | null;
  subtotalPriceSet?: ShopifyMoneyBag | null;
  totalTaxSet?: ShopifyMoneyBag | null;
  totalRefundedSet?: ShopifyMoneyBag | null;
  customer?: {
    id: string;
    defaultEmailAddress?: { emailAddress?: string | null } | null;
    defaultPhoneNumber?: { phoneNumber?: string | null } | null;
    defaultAddress?: { countryCodeV2?: string | null } | null;
  } | null;
  refunds?: ShopifyRefundNode[] | null;
  /** Every line item: paged reads fetch the ones past the first page, bulk reads gather their lines. */
  lineItems?: { nodes: ShopifyLineItemNode[]; pageInfo?: { hasNextPage: boolean; endCursor?: string | null } } | null;
}

/**
 * Where a stream stands. `since` is the greatest `updatedAt` committed (or, after a full sync, the time its bulk
 * operation started) and `seen` the GIDs committed at exactly that second: the `updated_at:>=` filter is
 * inclusive, so the next read sees them again and skips them. `bulk` is a full sync under way: the bulk
 * operation, the JSONL lines committed, and when it started.
 */
export interface ShopifyCheckpoint {
  since?: string;
  seen?: string[];
  /** `search`: the operation's `query:` filter (an incremental run with many changes, or `startDate`). */
  bulk?: { id: string; line: number; startedAt: string; search?: string };
}
