import {
  ArrayUnique,
  ConfigField,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from '@plexus/sdk';

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The sales and support objects read as events, each its own stream. */
export const ACTIVITY_OBJECTS = ['Opportunity', 'Case', 'Task', 'EmailMessage'] as const;
export type ActivityObject = (typeof ACTIVITY_OBJECTS)[number];

/** How a first (full) load reads an object: a Bulk API 2.0 query job, or REST `query` pages. */
export const FULL_SYNC_METHODS = ['bulk', 'rest'] as const;

/** How an admin connects a Salesforce org. */
export class SalesforceConfig {
  @ConfigField({
    description:
      'OAuth access token (session id) of an integration user with API access and read access to Contact and Lead',
  })
  @IsString()
  @MinLength(1)
  accessToken!: string;

  @ConfigField({
    description: "The org's My Domain name: the API is then https://<myDomain>.my.salesforce.com. Set this or baseUrl.",
    examples: ['acme'],
  })
  @IsOptional()
  @Matches(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:--[a-z0-9]+)?$/i, {
    message: 'myDomain must be a My Domain name such as acme',
  })
  myDomain?: string;

  @ConfigField({
    description:
      'Instance URL (the instance_url of the OAuth answer, e.g. https://acme.my.salesforce.com); defaults to the My Domain URL',
  })
  @ValidateIf((config: SalesforceConfig) => config.myDomain === undefined || config.baseUrl !== undefined)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl?: string;

  @ConfigField({ description: 'REST API version', default: 'v62.0' })
  @IsOptional()
  @Matches(/^v\d{2,3}\.0$/, { message: 'apiVersion must look like v62.0' })
  apiVersion = 'v62.0';

  @ConfigField({
    description:
      'Minutes re-read before the last SystemModstamp seen, for rows committed late by long transactions (re-read rows already synced are skipped)',
    default: 5,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1440)
  lookbackMinutes = 5;

  @ConfigField({ description: 'Records per query batch (Sforce-Query-Options batchSize, 200–2,000)', default: 2000 })
  @IsOptional()
  @IsInt()
  @Min(200)
  @Max(2000)
  batchSize = 2000;

  @ConfigField({
    description:
      'How a full sync reads Contacts, Leads, Cases, Tasks and EmailMessages: "bulk" runs one Bulk API 2.0 query job and pages its CSV results (a million rows cost a few dozen requests); "rest" walks REST query pages of up to 2,000 rows. Incremental reads always use REST query.',
    default: 'bulk',
  })
  @IsOptional()
  @IsIn(FULL_SYNC_METHODS, { message: 'fullSyncMethod must be bulk or rest' })
  fullSyncMethod: (typeof FULL_SYNC_METHODS)[number] = 'bulk';

  @ConfigField({
    description: 'Rows per page of Bulk API 2.0 results (maxRecords); a page is read as a stream',
    default: 50_000,
  })
  @IsOptional()
  @IsInt()
  @Min(2_000)
  @Max(1_000_000)
  bulkPageSize = 50_000;

  @ConfigField({
    description:
      'Sales and support objects read as events on the people they concern: Opportunity (through OpportunityContactRole), Case, Task, EmailMessage. An empty list reads Contacts and Leads only.',
    default: [...ACTIVITY_OBJECTS],
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(ACTIVITY_OBJECTS, { each: true, message: `activities must list some of ${ACTIVITY_OBJECTS.join(', ')}` })
  activities: ActivityObject[] = [...ACTIVITY_OBJECTS];

  @ConfigField({
    description:
      "The currency of a single-currency org (ISO 4217, e.g. USD). Leave it empty in a multi-currency org, where each Opportunity's CurrencyIsoCode is read.",
  })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currencyIsoCode must be an ISO 4217 code such as USD' })
  currencyIsoCode?: string;

  @ConfigField({ description: "Contact field holding the brand's own customer id (user_id), e.g. Customer_ID__c" })
  @IsOptional()
  @Matches(FIELD_NAME, { message: 'contactUserIdField must be a field API name' })
  contactUserIdField?: string;

  @ConfigField({ description: "Lead field holding the brand's own customer id (user_id)" })
  @IsOptional()
  @Matches(FIELD_NAME, { message: 'leadUserIdField must be a field API name' })
  leadUserIdField?: string;

  @ConfigField({ description: 'Requests per second this connection may make, shared by every worker', default: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  requestsPerSecond = 10;

  @ConfigField({ description: 'Country (ISO 3166 alpha-2) for phone numbers written without a country code' })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'defaultCountry must be an ISO 3166 alpha-2 code such as US' })
  defaultCountry?: string;
}

/** The API root: `baseUrl`, else the My Domain URL. */
export function instanceUrl(config: SalesforceConfig): string {
  return (config.baseUrl ?? `https://${config.myDomain ?? 'login'}.my.salesforce.com`).replace(/\/+$/, '');
}
