/**
 * The validation decorators a connector's config class uses, re-exported so a connector depends on
 * `@plexus/sdk` alone.
 *
 * @example
 * ```ts
 * import { IsString, IsUrl, IsOptional, ValidateNested, Type } from '@plexus/sdk';
 * class MyConfig { @IsUrl({ require_tld: false }) baseUrl = 'https://api.example.com'; @IsString() token!: string }
 * ```
 */
export * from 'class-validator';
export { Type, Transform, Expose, Exclude } from 'class-transformer';
