import {
  ConfigField,
  IDENTIFIER_TYPES,
  IsIn,
  IsInt,
  Max,
  Min,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Type,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from '@plexus/sdk';

/** Mapping values: one column name, or several columns that all carry the same identifier type. */
function IsColumnMap(kind: 'identifiers' | 'traits', options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isColumnMap',
      validator: {
        validate(value: unknown): boolean {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          return Object.entries(value as Record<string, unknown>).every(
            ([key, column]) =>
              (kind === 'traits' || (IDENTIFIER_TYPES as readonly string[]).includes(key)) &&
              (typeof column === 'string'
                ? column.length > 0
                : Array.isArray(column) &&
                  column.length > 0 &&
                  column.every((c) => typeof c === 'string' && c.length > 0)),
          );
        },
        defaultMessage(): string {
          return kind === 'identifiers'
            ? `identifiers must map identifier types (${IDENTIFIER_TYPES.join(', ')}) to a column name or a list of column names`
            : 'traits must map trait names to column names';
        },
      },
    },
    options,
  );
}

export class FileMapping {
  /** Identifier type → column (or columns). A column may feed several identifier types. */
  @ConfigField({
    description: 'identifier type (email, phone, user_id, …) → the column holding it',
    jsonSchema: {
      type: 'object',
      propertyNames: { enum: [...IDENTIFIER_TYPES] },
      additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    },
  })
  @IsColumnMap('identifiers')
  identifiers!: Partial<Record<(typeof IDENTIFIER_TYPES)[number], string | string[]>>;

  /** Trait name → column. */
  @ConfigField({
    description: 'trait name → the column holding it',
    jsonSchema: { type: 'object', additionalProperties: { type: 'string' } },
  })
  @IsOptional()
  @IsColumnMap('traits')
  traits?: Record<string, string>;

  /** Column holding when the row was observed (ISO-8601); default: the time of the run. */
  @IsOptional()
  @IsString()
  observedAt?: string;

  /** Column holding the row's own id, for `external_id` namespacing and quarantine reports. */
  @IsOptional()
  @IsString()
  id?: string;
}

/**
 * Offline files: CSV or NDJSON from a local path, an http(s) URL, or an upload. Exactly one of `path` and `url`.
 *
 * @example
 * { "path": "/data/crm-export.csv", "format": "csv", "defaultCountry": "US",
 *   "mapping": { "identifiers": { "email": "Email", "phone": "Phone", "external_id": "Id", "email_sha256": "hashed_email" },
 *                "traits": { "firstName": "First Name" }, "observedAt": "Updated" } }
 */
/** Exactly one of `path` and `url` is set (a run over an upload reads the upload instead). */
function IsPathOrUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'isPathOrUrl',
    validator: {
      validate(_value: unknown, args): boolean {
        const o = args?.object as { path?: unknown; url?: unknown } | undefined;
        const path = o?.path;
        const url = o?.url;
        if (
          path !== undefined &&
          path !== null &&
          (typeof path !== 'string' || path.length === 0 || path.length > 4096)
        )
          return false;
        return (typeof path === 'string') !== (typeof url === 'string' && url.length > 0);
      },
      defaultMessage: () =>
        'set exactly one of path (a local file) or url (http or https), path being a non-empty string',
    },
  });
}

export class FileImportConfig {
  @IsPathOrUrl()
  path?: string | null;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  url?: string | null;

  /** Sent as the Authorization header when reading `url` (e.g. `Bearer …`); a secret. */
  @IsOptional()
  @IsString()
  @Length(1, 4096)
  authorization?: string;

  @IsIn(['csv', 'ndjson'])
  format!: 'csv' | 'ndjson';

  /** CSV field delimiter (default `,`). */
  @IsOptional()
  @IsString()
  @Length(1, 1)
  delimiter?: string;

  /** Rows per batch; each batch commits with its checkpoint (default 1,000). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  batchSize?: number;

  /** Country (ISO 3166 alpha-2) for phone numbers written without a country code. */
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'defaultCountry must be an ISO 3166 alpha-2 code such as US' })
  defaultCountry?: string;

  @IsObject()
  @ValidateNested()
  @Type(() => FileMapping)
  mapping!: FileMapping;
}
