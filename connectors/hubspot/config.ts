import {
  ArrayUnique,
  ConfigField,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  MinLength,
} from '@plexus/sdk';

export const HUBSPOT_API_URL = 'https://api.hubapi.com';

/** CRM objects a source can read besides contacts, each a stream of its own. */
export const HUBSPOT_CRM_OBJECTS = ['deals', 'tickets', 'emails', 'calls', 'meetings'] as const;
export type HubSpotCrmObject = (typeof HUBSPOT_CRM_OBJECTS)[number];

/** How an admin connects a HubSpot account. */
export class HubSpotConfig {
  @ConfigField({
    description:
      'Private app access token (Settings → Integrations → Private Apps) or an OAuth access token, with the crm.objects.contacts.read scope (and crm.objects.companies.read for company details)',
  })
  @IsString()
  @MinLength(1)
  accessToken!: string;

  @ConfigField({ description: 'API base URL; change it only to go through a proxy', default: HUBSPOT_API_URL })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl: string = HUBSPOT_API_URL;

  @ConfigField({
    description:
      "Contact property holding the brand's own customer id, mapped to the user_id identifier (e.g. customer_id); none by default",
    examples: ['customer_id'],
  })
  @IsOptional()
  @Matches(/^[a-z0-9_]+$/, { message: 'userIdProperty must be a HubSpot property name (a-z, 0-9, _)' })
  userIdProperty?: string;

  @ConfigField({
    description:
      "Requests per second this connection may make, shared by every worker: HubSpot allows 100 per 10 s (Free, Starter) or 190 per 10 s (Professional, Enterprise) per private app; keep it at a tenth of your tier's 10-second limit or below",
    default: 10,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  requestsPerSecond = 10;

  @ConfigField({ description: 'Search requests per second (HubSpot allows 5 per account)', default: 5 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  searchRequestsPerSecond = 5;

  @ConfigField({ description: 'Contacts per list page during a full sync (at most 100)', default: 100 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize = 100;

  @ConfigField({
    description: 'Contacts handed to the hub per batch (and checkpoint) during a full sync; list pages are combined',
    default: 1000,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  recordsPerBatch = 1000;

  @ConfigField({
    description: 'List pages fetched ahead while the hub stores the previous batch during a full sync',
    default: 20,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  prefetchPages = 20;

  @ConfigField({ description: 'Contacts per search page during an incremental sync (at most 200)', default: 200 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(200)
  searchPageSize = 200;

  @ConfigField({
    description:
      "Read the contacts' associated companies during full syncs and add companyName/companyDomain traits (one extra request per page with new companies)",
    default: true,
  })
  @IsOptional()
  @IsBoolean()
  companyDetails = true;

  @ConfigField({
    description:
      'CRM objects read besides contacts, as events and traits on the contacts they are associated with: deals (with line items and stage history), tickets, emails, calls, meetings. Each needs its read scope (crm.objects.deals.read, tickets, sales-email-read for emails, crm.objects.contacts.read for calls and meetings)',
    default: [],
    examples: [['deals', 'tickets']],
    jsonSchema: { type: 'array', items: { enum: [...HUBSPOT_CRM_OBJECTS] }, uniqueItems: true },
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(HUBSPOT_CRM_OBJECTS, { each: true, message: `objects must be a list of ${HUBSPOT_CRM_OBJECTS.join(', ')}` })
  objects: HubSpotCrmObject[] = [];

  @ConfigField({
    description:
      "The app's client secret: verifies the X-HubSpot-Signature-v3 of webhooks sent to POST /v1/webhooks/<sourceId>",
  })
  @IsOptional()
  @IsString()
  @Length(8, 512)
  clientSecret?: string;

  @ConfigField({ description: 'Country (ISO 3166 alpha-2) for phone numbers written without a country code' })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'defaultCountry must be an ISO 3166 alpha-2 code such as US' })
  defaultCountry?: string;
}
