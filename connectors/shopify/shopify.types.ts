/** The parts of Shopify Admin REST resources the connector reads (the API sends more). */

export interface ShopifyAddress {
  country_code?: string | null;
  phone?: string | null;
}

export interface ShopifyMarketingConsent {
  state?: string | null;
  consent_updated_at?: string | null;
}

export interface ShopifyCustomer {
  id: number;
  email?: string | null;
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  created_at?: string | null;
  updated_at: string;
  orders_count?: number | null;
  total_spent?: string | null;
  currency?: string | null;
  accepts_marketing?: boolean | null;
  email_marketing_consent?: ShopifyMarketingConsent | null;
  default_address?: ShopifyAddress | null;
}

export interface ShopifyLineItem {
  id?: number;
  product_id?: number | null;
  variant_id?: number | null;
  title?: string | null;
  sku?: string | null;
  quantity?: number | null;
  price?: string | null;
}

export interface ShopifyOrder {
  id: number;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  created_at: string;
  updated_at: string;
  cancelled_at?: string | null;
  financial_status?: string | null;
  currency?: string | null;
  total_price?: string | null;
  subtotal_price?: string | null;
  total_tax?: string | null;
  customer?: (Pick<ShopifyCustomer, 'id' | 'email' | 'phone'> & { default_address?: ShopifyAddress | null }) | null;
  line_items?: ShopifyLineItem[] | null;
}

/**
 * Where an incremental stream stands. `since` is the greatest `updated_at` committed (Shopify's own string),
 * `seen` the ids committed with exactly that `updated_at` (the `updated_at_min` filter is inclusive, so the
 * next read sees them again and skips them). `next` is the page being read when a run was interrupted.
 */
export interface ShopifyCheckpoint {
  since?: string;
  seen?: number[];
  next?: string;
}
