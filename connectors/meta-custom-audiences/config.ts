import { ConfigField, IsIn, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min } from '@plexus/sdk';

export const CUSTOMER_FILE_SOURCES = [
  'USER_PROVIDED_ONLY',
  'PARTNER_PROVIDED_ONLY',
  'BOTH_USER_AND_PARTNER_PROVIDED',
] as const;

export class MetaCustomAudiencesConfig {
  @ConfigField({
    description:
      'A system-user access token with the ads_management permission on the ad account (Business Settings → System users)',
  })
  @IsString()
  accessToken!: string;

  @ConfigField({ description: 'The ad account id, digits only (without act_)', examples: ['1234567890'] })
  @Matches(/^\d+$/, { message: 'adAccountId must be the digits of the ad account id, without act_' })
  adAccountId!: string;

  @ConfigField({
    description: 'The app secret: when set, every request carries appsecret_proof (required by apps that enforce it)',
  })
  @IsOptional()
  @IsString()
  appSecret?: string;

  @ConfigField({ description: 'Graph API version', default: 'v23.0' })
  @IsOptional()
  @Matches(/^v\d+\.\d+$/, { message: 'apiVersion must look like v23.0' })
  apiVersion?: string;

  @ConfigField({ description: 'Graph API base URL (a proxy or an emulator)', default: 'https://graph.facebook.com' })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl?: string;

  @ConfigField({
    description: 'How the customer data was collected, for audiences Plexus creates',
    default: 'USER_PROVIDED_ONLY',
  })
  @IsOptional()
  @IsIn(CUSTOMER_FILE_SOURCES)
  customerFileSource?: (typeof CUSTOMER_FILE_SOURCES)[number];

  @ConfigField({
    description:
      'Requests per second Plexus allows itself on this ad account; a fraction spaces requests evenly (1.9 keeps 5 % under a limit of 2 a second)',
    default: 10,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(1000)
  requestsPerSecond?: number;
}

export const DEFAULT_API_VERSION = 'v23.0';
export const DEFAULT_BASE_URL = 'https://graph.facebook.com';
