import {
  ConfigField,
  IsISO8601,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  type ValidationOptions,
} from '@plexus/sdk';

/** The shop is known: by its `shop` name or an explicit `baseUrl`. */
function HasShopOrBaseUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasShopOrBaseUrl',
      validator: {
        validate: (_value, args) => {
          const o = args?.object as { shop?: unknown; baseUrl?: unknown } | undefined;
          return (typeof o?.shop === 'string' && o.shop !== '') || (typeof o?.baseUrl === 'string' && o.baseUrl !== '');
        },
        defaultMessage: () => 'set shop (e.g. acme or acme.myshopify.com) or baseUrl',
      },
    },
    options,
  );
}

export class ShopifyConfig {
  @ConfigField({
    description: 'The shop: its myshopify.com name or domain',
    examples: ['acme', 'acme.myshopify.com'],
  })
  @HasShopOrBaseUrl()
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]*(\.myshopify\.com)?$/i, {
    message: 'shop must be the myshopify.com name of the shop, e.g. acme or acme.myshopify.com',
  })
  shop?: string;

  @ConfigField({
    description: 'Admin API base URL; default https://<shop>.myshopify.com (set it for a proxy or an emulator)',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl?: string;

  @ConfigField({
    description:
      'Admin API access token of a custom app (shpat_…) with the read_customers and read_orders scopes (and read_all_orders for orders older than 60 days)',
  })
  @IsString()
  @Length(1, 512)
  accessToken!: string;

  @ConfigField({
    description:
      "The app's client secret: verifies the X-Shopify-Hmac-Sha256 of webhooks sent to POST /v1/webhooks/<sourceId>",
  })
  @IsOptional()
  @IsString()
  @Length(8, 512)
  webhookSecret?: string;

  @ConfigField({
    description:
      'GraphQL Admin API version (quarterly; each is supported for about 12 months, then Shopify serves the oldest supported one)',
    default: '2026-10',
    examples: ['2026-10'],
  })
  @IsOptional()
  @Matches(/^(\d{4}-(01|04|07|10)|unstable)$/, { message: 'apiVersion must be a quarterly version such as 2026-10' })
  apiVersion?: string;

  @ConfigField({
    description:
      'Records per page of incremental reads (1–250, default 250); lowered when needed to keep each query under Shopify’s 1,000-point limit',
    default: 250,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(250)
  pageSize?: number;

  @ConfigField({
    description:
      'An incremental run with more changes than this goes through a bulk operation instead of cost-paced pages (0–10,000, default 2,500)',
    default: 2500,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  bulkAbove?: number;

  @ConfigField({
    description:
      'Deprecated and ignored: the request rate of the REST version of this connector. The GraphQL Admin API limits by query cost, which the connector reads from every answer; kept so configurations saved before still validate',
    jsonSchema: { deprecated: true },
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  requestsPerSecond?: number;

  @ConfigField({ description: 'Only read records updated at or after this time on the first run (ISO-8601)' })
  @IsOptional()
  @IsISO8601()
  startDate?: string;
}

export const DEFAULT_API_VERSION = '2026-10';
export const DEFAULT_PAGE_SIZE = 250;
export const DEFAULT_BULK_ABOVE = 2_500;

/** `https://acme.myshopify.com` for `acme`, or the configured `baseUrl`. */
export function shopBaseUrl(config: ShopifyConfig): string {
  if (config.baseUrl) return config.baseUrl.replace(/\/+$/, '');
  const shop = (config.shop ?? '').toLowerCase().replace(/\.myshopify\.com$/, '');
  return `https://${shop}.myshopify.com`;
}

/** `/admin/api/2026-10/graphql.json`: the one endpoint of the GraphQL Admin API. */
export function graphqlPath(config: ShopifyConfig): string {
  return `/admin/api/${config.apiVersion ?? DEFAULT_API_VERSION}/graphql.json`;
}
