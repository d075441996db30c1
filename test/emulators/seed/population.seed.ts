import type { HubSpotObject } from '../hubspot/hubspot.data.js';
import { CUSTOMER_ID_BASE, shopifyTime, type ShopifyCustomer, type ShopifyOrder } from '../shopify/shopify.data.js';

/**
 * Turns the shared synthetic population (`test/fixtures`, `generatePopulation`) into vendor-shaped seeds.
 * The population's types are restated structurally here, so the emulators do not depend on that module at
 * build time; `main.ts` loads it dynamically when it is there.
 */
export interface PopulationLike {
  crm: {
    contacts: Array<{
      id: string;
      email: string | null;
      phone: string | null;
      firstname: string;
      lastname: string;
      country: string;
      updatedAt: string;
    }>;
  };
  shop: {
    customers: Array<{
      id: number;
      customerKey?: string;
      email: string | null;
      phone: string | null;
      first_name: string;
      last_name: string;
      country_code: string;
      accepts_marketing: boolean;
      updated_at: string;
    }>;
    orders: Array<{
      id: number;
      customer_id: number | null;
      total_price: string;
      currency: string;
      created_at: string;
      email?: string | null;
    }>;
  };
  dmp: {
    rows: Array<{
      cookie_id: string;
      email_sha256: string | null;
      idfa: string | null;
      segments: string[];
      seen_at: string;
    }>;
  };
}

/** Checks at run time that a loaded module's population has the fields the adapters read. */
export function isPopulationLike(value: unknown): value is PopulationLike {
  const p = value as Partial<PopulationLike> | null;
  return (
    !!p &&
    Array.isArray(p.crm?.contacts) &&
    Array.isArray(p.shop?.customers) &&
    Array.isArray(p.shop?.orders) &&
    Array.isArray(p.dmp?.rows)
  );
}

export function hubspotContactsFromPopulation(population: PopulationLike): HubSpotObject[] {
  return population.crm.contacts.map((c, i) => {
    const id = /^\d+$/.test(c.id) ? c.id : String(i + 1);
    const modified = new Date(c.updatedAt).toISOString();
    return {
      id,
      properties: {
        hs_object_id: id,
        email: c.email,
        phone: c.phone,
        firstname: c.firstname,
        lastname: c.lastname,
        country: c.country,
        lifecyclestage: 'lead',
        hs_email_optout: 'false',
        createdate: modified,
        lastmodifieddate: modified,
      },
      createdAt: modified,
      updatedAt: modified,
      archived: false,
    };
  });
}

/** Customers with orders rolled up (`orders_count`, `total_spent`, `last_order_id`), and their orders. */
export function shopifyFromPopulation(population: PopulationLike): {
  customers: ShopifyCustomer[];
  orders: ShopifyOrder[];
} {
  const byId = new Map<number, ShopifyCustomer>();
  const customers = population.shop.customers.map((c) => {
    const id = c.id < 1_000_000 ? CUSTOMER_ID_BASE + c.id : c.id;
    const updated = shopifyTime(Date.parse(c.updated_at));
    const address = {
      id: id + 1,
      customer_id: id,
      first_name: c.first_name,
      last_name: c.last_name,
      address1: null,
      city: null,
      zip: null,
      phone: c.phone,
      country: c.country_code,
      country_code: c.country_code,
      country_name: c.country_code,
      default: true,
    };
    const customer: ShopifyCustomer = {
      id,
      email: c.email,
      phone: c.phone,
      first_name: c.first_name,
      last_name: c.last_name,
      created_at: updated,
      updated_at: updated,
      orders_count: 0,
      total_spent: '0.00',
      last_order_id: null,
      state: 'enabled',
      verified_email: true,
      tags: c.customerKey ? `key:${c.customerKey}` : '',
      currency: 'USD',
      accepts_marketing: c.accepts_marketing,
      email_marketing_consent: {
        state: c.accepts_marketing ? 'subscribed' : 'not_subscribed',
        opt_in_level: 'single_opt_in',
        consent_updated_at: c.accepts_marketing ? updated : null,
      },
      sms_marketing_consent: null,
      default_address: address,
      addresses: [address],
      admin_graphql_api_id: `gid://shopify/Customer/${id}`,
    };
    byId.set(c.id, customer);
    return customer;
  });
  const orders = population.shop.orders.map((o, i): ShopifyOrder => {
    const buyer = o.customer_id === null ? undefined : byId.get(o.customer_id);
    const at = shopifyTime(Date.parse(o.created_at));
    if (buyer) {
      buyer.orders_count += 1;
      buyer.total_spent = (Number(buyer.total_spent) + Number(o.total_price)).toFixed(2);
      buyer.last_order_id = o.id;
    }
    return {
      id: o.id,
      name: `#${1001 + i}`,
      order_number: 1001 + i,
      email: buyer?.email ?? o.email ?? null,
      phone: null,
      created_at: at,
      updated_at: at,
      processed_at: at,
      closed_at: at,
      cancelled_at: null,
      financial_status: 'paid',
      fulfillment_status: 'fulfilled',
      currency: o.currency,
      total_price: o.total_price,
      subtotal_price: o.total_price,
      total_tax: '0.00',
      customer: buyer
        ? {
            id: buyer.id,
            email: buyer.email,
            phone: buyer.phone,
            first_name: buyer.first_name,
            last_name: buyer.last_name,
            created_at: buyer.created_at,
            updated_at: buyer.updated_at,
            default_address: buyer.default_address,
          }
        : null,
      line_items: [
        {
          id: o.id * 10,
          product_id: 632910392,
          variant_id: 6329103921,
          title: 'Item',
          sku: 'SKU-1',
          quantity: 1,
          price: o.total_price,
        },
      ],
      admin_graphql_api_id: `gid://shopify/Order/${o.id}`,
    };
  });
  return { customers, orders };
}

/** DMP rows as daily NDJSON files (`dmp/YYYY-MM-DD.ndjson`), the way a feed drops them in a bucket. */
export function dmpFilesFromPopulation(population: PopulationLike): Record<string, string> {
  const files: Record<string, string[]> = {};
  for (const row of population.dmp.rows) {
    const key = `dmp/${row.seen_at.slice(0, 10)}.ndjson`;
    (files[key] ??= []).push(JSON.stringify(row));
  }
  return Object.fromEntries(Object.entries(files).map(([key, lines]) => [key, `${lines.join('\n')}\n`]));
}
