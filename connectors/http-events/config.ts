import { IsBoolean, IsOptional, Matches } from '@plexus/sdk';

/** Settings of a tracking (push) source. Events arrive on the tracking API authenticated by the source's write key. */
export class HttpEventsConfig {
  /** Store `context.ip` as sent. Off by default: the last IPv4 octet / last 80 bits of IPv6 are zeroed. */
  @IsOptional()
  @IsBoolean()
  keepFullIp?: boolean;

  /** ISO 3166-1 alpha-2 country for phone numbers sent without a country code (e.g. `traits.phone`). */
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'defaultCountry must be an ISO 3166-1 alpha-2 code such as DE' })
  defaultCountry?: string;
}
