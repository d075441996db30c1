import { ConfigField, IsInt, IsNumber, IsOptional, IsString, IsUrl, Max, Min } from '@plexus/sdk';

export class TheTradeDeskConfig {
  @ConfigField({ description: 'The advertiser id' })
  @IsString()
  advertiserId!: string;

  @ConfigField({ description: "The advertiser's first-party data secret key (signs every request: TtdSignature)" })
  @IsString()
  secretKey!: string;

  @ConfigField({
    description: 'The data endpoint of your region, e.g. https://use-data.adsrvr.org (US East)',
    default: 'https://use-data.adsrvr.org',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl?: string;

  @ConfigField({
    description: 'How long a membership lasts on TTD without being sent again, in minutes',
    default: 43200,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(259200)
  ttlMinutes?: number;

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
