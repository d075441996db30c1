import { ConfigField, IsBoolean, IsIn, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min } from '@plexus/sdk';

export const ACCOUNT_TYPES = [
  'GOOGLE_ADS',
  'DISPLAY_VIDEO_PARTNER',
  'DISPLAY_VIDEO_ADVERTISER',
  'DATA_PARTNER',
] as const;

export class GoogleCustomerMatchConfig {
  @ConfigField({
    description: 'An OAuth 2.0 access token with the https://www.googleapis.com/auth/datamanager scope',
  })
  @IsString()
  accessToken!: string;

  @ConfigField({ description: 'The operating account: the Google Ads customer id, 10 digits without dashes' })
  @Matches(/^\d{10}$/, { message: 'operatingAccountId must be 10 digits without dashes' })
  operatingAccountId!: string;

  @ConfigField({ description: 'Type of the operating account', default: 'GOOGLE_ADS' })
  @IsOptional()
  @IsIn(ACCOUNT_TYPES)
  accountType?: (typeof ACCOUNT_TYPES)[number];

  @ConfigField({
    description: 'The manager (login) account, when the credentials reach the operating account through one',
  })
  @IsOptional()
  @Matches(/^\d{10}$/, { message: 'loginAccountId must be 10 digits without dashes' })
  loginAccountId?: string;

  @ConfigField({
    description:
      'The Customer Match user list (productDestinationId) checked by "check" and used for audiences linked without a list id of their own',
  })
  @Matches(/^\d+$/, { message: 'userListId must be the digits of the user list id' })
  userListId!: string;

  @ConfigField({
    description:
      'Confirms the advertiser accepted the Customer Match terms of service (sent as termsOfService on every upload; Google refuses uploads otherwise)',
  })
  @IsBoolean()
  customerMatchTermsAccepted!: boolean;

  @ConfigField({ description: 'Google Cloud project billed for quota (x-goog-user-project), for user credentials' })
  @IsOptional()
  @IsString()
  quotaProjectId?: string;

  @ConfigField({
    description: 'Data Manager API base URL (a proxy or an emulator)',
    default: 'https://datamanager.googleapis.com',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl?: string;

  @ConfigField({
    description: 'Requests per second Plexus allows itself; a fraction spaces requests evenly',
    default: 5,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(1000)
  requestsPerSecond?: number;
}
