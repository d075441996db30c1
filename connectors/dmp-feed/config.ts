import {
  ConfigField,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  Type,
  ValidateBy,
  ValidateNested,
} from '@plexus/sdk';

/** Exactly one place to read from: a local `path`, a `url`, or an S3 `bucket`. */
function HasOneLocation(): PropertyDecorator {
  return ValidateBy({
    name: 'hasOneLocation',
    validator: {
      validate: (_value, args) => {
        const o = (args?.object ?? {}) as Record<string, unknown>;
        const set = ['path', 'url', 'bucket'].filter((k) => typeof o[k] === 'string' && o[k] !== '');
        return set.length === 1;
      },
      defaultMessage: () => 'set exactly one of path (a local folder or file), url (http or https) or bucket (S3)',
    },
  });
}

/** Which column (CSV) or field (NDJSON) holds what; the defaults are the names shown. */
export class DmpColumns {
  @ConfigField({ description: 'Third-party cookie id', default: 'cookie_id' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cookieId?: string;

  @ConfigField({ description: 'Mobile advertising id (IDFA or GAID)', default: 'device_id' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  deviceId?: string;

  @ConfigField({ description: 'SHA-256 (hex) of the normalised email', default: 'email_sha256' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  emailSha256?: string;

  @ConfigField({ description: 'IP address (kept truncated, as data)', default: 'ip' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  ip?: string;

  @ConfigField({ description: 'Segment memberships: separated names (CSV) or an array (NDJSON)', default: 'segments' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  segments?: string;

  @ConfigField({
    description:
      'Advertising consent the DMP collected for the row (true/false, yes/no or 1/0); a row without it grants nothing',
    default: 'ads_consent',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  adsConsent?: string;

  @ConfigField({
    description: 'When the row was observed (ISO-8601, or epoch seconds/milliseconds)',
    default: 'seen_at',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  timestamp?: string;
}

/**
 * A DMP feed: anonymous rows (cookie ids, device ids, hashed emails, IP, segment memberships with timestamps) in
 * CSV or NDJSON files, gzipped or not, from a local folder, an http(s) URL or an S3-compatible bucket.
 *
 * @example
 * { "bucket": "dmp-feeds", "prefix": "acme/daily/", "region": "eu-west-1",
 *   "accessKeyId": "AKIA…", "secretAccessKey": "…", "segmentTtlDays": 60 }
 */
export class DmpFeedConfig {
  @ConfigField({ description: 'A local folder (every feed file in it, sub-folders included) or a single file' })
  @HasOneLocation()
  @IsOptional()
  @IsString()
  @Length(1, 4096)
  path?: string;

  @ConfigField({ description: 'One feed file over http(s); read again whenever its ETag or Last-Modified changes' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  url?: string;

  @ConfigField({ description: 'Authorization header sent with url (e.g. "Bearer …")' })
  @IsOptional()
  @IsString()
  @Length(1, 4096)
  authorization?: string;

  @ConfigField({ description: 'S3 bucket holding the feed files' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'bucket must be an S3 bucket name' })
  bucket?: string;

  @ConfigField({ description: 'Only keys starting with this prefix', examples: ['acme/daily/'] })
  @IsOptional()
  @IsString()
  @Length(0, 1024)
  prefix?: string;

  @ConfigField({ description: 'Bucket region', default: 'us-east-1' })
  @IsOptional()
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d$|^auto$/, { message: 'region must look like eu-west-1' })
  region?: string;

  @ConfigField({
    description: 'S3-compatible endpoint (MinIO, R2, a proxy…); default AWS S3 of the region',
    examples: ['https://s3.eu-west-1.amazonaws.com'],
  })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  endpoint?: string;

  @ConfigField({ description: 'Path-style addressing; default true when endpoint is set' })
  @IsOptional()
  @IsBoolean()
  forcePathStyle?: boolean;

  @ConfigField({ description: 'Access key id (with s3:ListBucket and s3:GetObject on the bucket)' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  accessKeyId?: string;

  @ConfigField({ description: 'Secret access key' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  secretAccessKey?: string;

  @ConfigField({
    description: 'File format; auto decides by the name (.csv, .tsv, .ndjson, .jsonl, each maybe .gz)',
    default: 'auto',
  })
  @IsOptional()
  @IsIn(['auto', 'csv', 'ndjson'])
  format?: 'auto' | 'csv' | 'ndjson';

  @ConfigField({ description: 'CSV delimiter (default "," — tab for .tsv files)' })
  @IsOptional()
  @IsString()
  @Length(1, 1)
  delimiter?: string;

  @ConfigField({ description: 'Separator of segment names inside one CSV cell', default: '|' })
  @IsOptional()
  @IsString()
  @Length(1, 1)
  segmentSeparator?: string;

  @ConfigField({ description: 'Days a segment membership lasts after it was observed', default: 90 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1095)
  segmentTtlDays?: number;

  @ConfigField({
    description: 'Prefix of segment trait names (segment sports_fans → trait segment_sports_fans)',
    default: 'segment_',
  })
  @IsOptional()
  @Matches(/^[a-zA-Z0-9_.]{0,40}$/, { message: 'segmentTraitPrefix may hold letters, digits, _ and . only' })
  segmentTraitPrefix?: string;

  @ConfigField({ description: 'Rows per batch; each batch commits with its checkpoint', default: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  batchSize?: number;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DmpColumns)
  columns?: DmpColumns;
}

export const DEFAULTS = {
  segmentTtlDays: 90,
  segmentTraitPrefix: 'segment_',
  segmentSeparator: '|',
  batchSize: 1000,
  columns: {
    cookieId: 'cookie_id',
    deviceId: 'device_id',
    emailSha256: 'email_sha256',
    ip: 'ip',
    segments: 'segments',
    timestamp: 'seen_at',
    adsConsent: 'ads_consent',
  },
} as const;
