import {
  ConfigField,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
} from '@plexus/sdk';

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
export const TARGET_OBJECTS = ['Contact', 'Lead'] as const;
export type TargetObject = (typeof TARGET_OBJECTS)[number];

/** A `{ trait: field }` map whose values are field API names. */
function IsFieldMapping(): PropertyDecorator {
  return ValidateBy({
    name: 'isFieldMapping',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.entries(value).every(
          ([trait, field]) => trait !== '' && typeof field === 'string' && FIELD_NAME.test(field),
        ),
      defaultMessage: () =>
        'fields must map trait names to Salesforce field API names, e.g. { "lifetimeValue": "Lifetime_Value__c" }',
    },
  });
}

/** How Plexus writes to a Salesforce org. */
export class SalesforceDestinationConfig {
  @ConfigField({
    description:
      'OAuth access token (session id) of an integration user that may edit the chosen object, Campaigns and Campaign Members',
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

  @ConfigField({ description: 'Instance URL (e.g. https://acme.my.salesforce.com); defaults to the My Domain URL' })
  @ValidateIf((config: SalesforceDestinationConfig) => config.myDomain === undefined || config.baseUrl !== undefined)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl?: string;

  @ConfigField({ description: 'REST API version', default: 'v62.0' })
  @IsOptional()
  @Matches(/^v\d{2,3}\.0$/, { message: 'apiVersion must look like v62.0' })
  apiVersion = 'v62.0';

  @ConfigField({ description: 'The records Plexus updates and adds to campaigns: Contact or Lead', default: 'Contact' })
  @IsOptional()
  @IsIn(TARGET_OBJECTS, { message: 'object must be Contact or Lead' })
  object: TargetObject = 'Contact';

  @ConfigField({
    description:
      "An External ID field of the object holding the brand's customer id (the profile's user_id). With it, people without a Salesforce record id are upserted on it — created when missing; without it, only people synced from Salesforce (their record id) are written.",
    examples: ['Customer_ID__c'],
  })
  @IsOptional()
  @Matches(FIELD_NAME, { message: 'externalIdField must be a field API name' })
  externalIdField?: string;

  @ConfigField({
    description:
      "Profile traits written to fields: trait name → field API name. Checked against the object's fields (they must exist and be writable) by the connection check.",
    examples: [{ lifetimeValue: 'Lifetime_Value__c', lastName: 'LastName' }],
    default: {},
    jsonSchema: {
      type: 'object',
      additionalProperties: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
    },
  })
  @IsOptional()
  @IsObject()
  @IsFieldMapping()
  fields: Record<string, string> = {};

  @ConfigField({
    description:
      'Only use record ids synced by this Salesforce source (its Plexus id), when the hub holds more than one org',
  })
  @IsOptional()
  @IsString()
  sourceId?: string;

  @ConfigField({ description: "Campaign Member status of people Plexus adds (the campaign's default when empty)" })
  @IsOptional()
  @IsString()
  memberStatus?: string;

  @ConfigField({ description: 'Requests per second this connection may make, shared by every worker', default: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  requestsPerSecond = 10;
}

/** The API root: `baseUrl`, else the My Domain URL. */
export function instanceUrl(config: SalesforceDestinationConfig): string {
  return (config.baseUrl ?? `https://${config.myDomain ?? 'login'}.my.salesforce.com`).replace(/\/+$/, '');
}
