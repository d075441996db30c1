import { configJsonSchema, getPath, schemaAtPath, SECRET_MASK, type JsonSchema } from './config.js';
import type { ManifestBase } from './connector.js';

/**
 * The config fields that say where a connector connects or reads: those the manifest lists in `addresses`,
 * plus every field validated with `@IsUrl()` (found through the config's JSON Schema, nested objects
 * included). A stored secret is bound to these: changing one of them requires sending every secret again.
 *
 * @example
 * ```ts
 * // config class: @IsUrl() baseUrl; @IsString() shop; manifest: addresses: ['shop']
 * addressPaths(definition) // ['shop', 'baseUrl']
 * ```
 */
export function addressPaths(definition: Pick<ManifestBase<unknown>, 'config' | 'addresses'>): string[] {
  return [...new Set([...(definition.addresses ?? []), ...urlFieldPaths(definition.config as new () => object)])];
}

/**
 * The URL-validated fields of each config class. Decorators are applied when a class is defined, so a class's
 * schema never changes; it is walked once (the API opens a source's config on every tracking call).
 */
const urlFields = new WeakMap<new () => object, readonly string[]>();

function urlFieldPaths(configClass: new () => object): readonly string[] {
  let paths = urlFields.get(configClass);
  if (paths) return paths;
  const found: string[] = [];
  const walk = (schema: JsonSchema, prefix: string): void => {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const [name, field] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (field.format === 'uri') found.push(path);
      if (field.type === 'object' && field.properties) walk(field, path);
    }
  };
  walk(configJsonSchema(configClass), '');
  urlFields.set(configClass, (paths = found));
  return paths;
}

/** Problems with a manifest's `addresses`: each must be a validated field of the config class. */
export function addressProblems(definition: { config: new () => object; addresses?: unknown }): string[] {
  if (definition.addresses === undefined) return [];
  if (!Array.isArray(definition.addresses) || definition.addresses.some((a) => typeof a !== 'string' || a === ''))
    return ['addresses must be an array of config field paths (strings)'];
  const schema = configJsonSchema(definition.config);
  return (definition.addresses as string[])
    .filter((path) => !schemaAtPath(schema, path))
    .map((path) => `address "${path}" is not a validated field of the config class`);
}

/** True when `value` is a URL carrying a user name or password (`https://user:pass@host/`). */
export function hasUrlCredentials(value: unknown): value is string {
  if (typeof value !== 'string' || !value.includes('@')) return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

/**
 * The URL with its credentials shown as `********`, as the API shows it.
 *
 * @example maskUrlCredentials('https://bob:s3cret@feeds.example.com/a.csv') // 'https://********@feeds.example.com/a.csv'
 */
export function maskUrlCredentials(value: string): string {
  if (!hasUrlCredentials(value)) return value;
  const url = new URL(value);
  url.username = '';
  url.password = '';
  return url.toString().replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, `$1${SECRET_MASK}@`);
}

/**
 * User names and passwords embedded in the URL-valued address fields, decoded and as written, to redact.
 *
 * @example urlCredentialValues({ url: 'https://bob:s3cret@x.io/' }, ['url']) // ['bob', 's3cret']
 */
export function urlCredentialValues(config: unknown, paths: string[]): string[] {
  const values: string[] = [];
  for (const path of paths) {
    const value = getPath(config, path);
    if (!hasUrlCredentials(value)) continue;
    const url = new URL(value);
    for (const part of [url.username, url.password]) {
      if (part === '') continue;
      values.push(part);
      const decoded = safeDecode(part);
      if (decoded !== part) values.push(decoded);
    }
  }
  return values;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
