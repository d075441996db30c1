import { ConfigField, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min } from '@plexus/sdk';

export class TikTokAudiencesConfig {
  @ConfigField({ description: 'A long-term access token of the TikTok for Business app (sent as Access-Token)' })
  @IsString()
  accessToken!: string;

  @ConfigField({ description: 'The advertiser id the audiences belong to' })
  @Matches(/^\d+$/, { message: 'advertiserId must be digits' })
  advertiserId!: string;

  @ConfigField({
    description: 'Marketing API base URL (a proxy or an emulator)',
    default: 'https://business-api.tiktok.com',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl?: string;

  @ConfigField({
    description:
      'Requests per second Plexus allows itself (TikTok limits each app per second); a fraction spaces requests evenly',
    default: 5,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(1000)
  requestsPerSecond?: number;
}
