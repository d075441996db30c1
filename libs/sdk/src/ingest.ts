import type { SourceDefinition } from './connector.js';
import { SystemError } from './errors.js';

/**
 * What the hub applies to every record a source brings in (scheduled runs, uploads, webhooks and the tracking
 * API alike). The connector derives it from its configuration in `SourceDefinition.ingest`; the hub never reads
 * a connector's configuration fields by name.
 */
export interface IngestSettings {
  /** ISO 3166-1 alpha-2 country for phone numbers written without a country code (`US`, `DE`). */
  defaultCountry?: string;
  /** Keep IP addresses as sent; by default the last IPv4 octet and the last 80 bits of IPv6 are zeroed. */
  keepFullIp?: boolean;
}

const COUNTRY = /^[A-Z]{2}$/;

/**
 * The ingest settings a source declares for `config`, checked: `{}` when the connector declares none. A value
 * of the wrong shape is a bug of the connector and throws a `SystemError` naming it.
 *
 * @example
 * ```ts
 * const { defaultCountry, keepFullIp } = ingestSettingsOf(definition, config);
 * ```
 */
export function ingestSettingsOf(definition: SourceDefinition<unknown>, config: unknown): IngestSettings {
  if (typeof definition.ingest !== 'function') return {};
  const raw: unknown = definition.ingest(config);
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new SystemError(`connector ${definition.id}: ingest(config) must return an object`);
  const { defaultCountry, keepFullIp, ...rest } = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (
    defaultCountry !== undefined &&
    defaultCountry !== null &&
    (typeof defaultCountry !== 'string' || !COUNTRY.test(defaultCountry))
  )
    problems.push(`defaultCountry must be an ISO 3166-1 alpha-2 code, got ${JSON.stringify(defaultCountry)}`);
  if (keepFullIp !== undefined && keepFullIp !== null && typeof keepFullIp !== 'boolean')
    problems.push(`keepFullIp must be a boolean, got ${JSON.stringify(keepFullIp)}`);
  for (const key of Object.keys(rest)) problems.push(`unknown setting ${key}`);
  if (problems.length > 0)
    throw new SystemError(`connector ${definition.id}: ingest(config) returned ${problems.join('; ')}`);
  const settings: IngestSettings = {};
  if (typeof defaultCountry === 'string') settings.defaultCountry = defaultCountry;
  if (keepFullIp === true) settings.keepFullIp = true;
  return settings;
}
