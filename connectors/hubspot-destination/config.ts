import {
  ConfigField,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Max,
  Min,
  MinLength,
  ValidateBy,
} from '@plexus/sdk';

export const HUBSPOT_API_URL = 'https://api.hubapi.com';
const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;

/** `properties`: trait names → HubSpot contact property names (lower-case internal names). */
function IsPropertyMap(): PropertyDecorator {
  return ValidateBy({
    name: 'isPropertyMap',
    validator: {
      validate(value: unknown): boolean {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
        const entries = Object.entries(value as Record<string, unknown>);
        return (
          entries.length <= 200 &&
          entries.every(
            ([trait, property]) =>
              trait.length > 0 && trait.length <= 200 && typeof property === 'string' && PROPERTY_NAME.test(property),
          )
        );
      },
      defaultMessage: () =>
        'properties must map trait names to HubSpot contact property names (lower-case letters, digits and _, starting with a letter; at most 200)',
    },
  });
}

/** How an admin connects the HubSpot account Plexus writes contacts and lists to. */
export class HubSpotDestinationConfig {
  @ConfigField({
    description:
      'Private app access token with crm.objects.contacts.write, crm.objects.contacts.read, crm.schemas.contacts.write (to create properties) and crm.lists.write',
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
      'Profile traits (and computed traits) written to contact properties: trait name → HubSpot property name. Checked against the account’s properties when the destination is tested',
    examples: [{ firstName: 'firstname', lifetime_value: 'plexus_lifetime_value' }],
    jsonSchema: { type: 'object', additionalProperties: { type: 'string', pattern: PROPERTY_NAME.source } },
    default: {},
  })
  @IsOptional()
  @IsPropertyMap()
  properties: Record<string, string> = {};

  @ConfigField({
    description:
      'Create mapped properties the account does not have yet (text properties in the Contact information group)',
    default: true,
  })
  @IsOptional()
  @IsBoolean()
  createMissingProperties = true;

  @ConfigField({ description: 'Prefix of the names of the lists Plexus creates for audiences', default: 'Plexus: ' })
  @IsOptional()
  @IsString()
  @Length(0, 60)
  listNamePrefix = 'Plexus: ';

  @ConfigField({
    description:
      'Requests per second this connection may make, shared by every worker: HubSpot allows 100 (Free, Starter) or 190 (Professional, Enterprise) per 10 s per private app',
    default: 10,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  requestsPerSecond = 10;
}
