// class-transformer's @Type() reads design-time types through reflect-metadata; connectors get it with the SDK.
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, type ValidationError } from 'class-validator';

/** A JSON Schema object (draft 2020-12 vocabulary). */
export type JsonSchema = { [key: string]: unknown };

/** What replaces a secret value when a configuration is shown. */
export const SECRET_MASK = '********';

export interface ConfigFieldOptions {
  /** Shown in the catalog and admin UI. */
  description?: string;
  title?: string;
  examples?: unknown[];
  default?: unknown;
  /**
   * JSON Schema keywords for what the validation decorators cannot say, e.g. the shape a custom validator
   * accepts, so the catalog (and the forms generated from it) describe the field.
   *
   * @example
   * ```ts
   * @ConfigField({ jsonSchema: { type: 'object', additionalProperties: { type: 'string' } } })
   * @IsColumnMap() columns!: Record<string, string>;
   * ```
   */
  jsonSchema?: Record<string, unknown>;
}

const fieldDocs = new WeakMap<object, Map<string, ConfigFieldOptions>>();

/**
 * Documents a configuration field for the catalog's JSON Schema (description, title, examples, default).
 *
 * @example
 * ```ts
 * class HubSpotConfig {
 *   @ConfigField({ description: 'Private app access token', examples: ['pat-eu1-...'] })
 *   @IsString() accessToken!: string;
 * }
 * ```
 */
export function ConfigField(options: ConfigFieldOptions): PropertyDecorator {
  return (target, propertyKey) => {
    const ctor = target.constructor;
    const docs = fieldDocs.get(ctor) ?? new Map<string, ConfigFieldOptions>();
    docs.set(String(propertyKey), options);
    fieldDocs.set(ctor, docs);
  };
}

type ClassType = new () => object;

interface Meta {
  name?: string;
  type: string;
  propertyName: string;
  constraints?: unknown[];
  each?: boolean;
}

/**
 * Renders a class-validator configuration class as JSON Schema for the catalog: types, enums, bounds,
 * patterns and formats from the decorators, `required` from the fields without `@IsOptional()`, nested
 * classes (`@ValidateNested()` + `@Type(() => Nested)`) as nested objects, and secret fields marked
 * `"writeOnly": true, "x-secret": true`. Unknown fields are refused (`additionalProperties: false`), as
 * `validateConfig` does.
 *
 * @example
 * ```ts
 * class Cfg { @IsUrl() baseUrl!: string; @IsString() token!: string; @IsOptional() @IsInt() @Min(1) pageSize?: number }
 * configJsonSchema(Cfg, ['token']);
 * // { type: 'object', required: ['baseUrl', 'token'], properties: { baseUrl: { type: 'string', format: 'uri' },
 * //   token: { type: 'string', writeOnly: true, 'x-secret': true }, pageSize: { type: 'integer', minimum: 1 } }, ... }
 * ```
 */
export function configJsonSchema(configClass: ClassType, secrets: string[] = []): JsonSchema {
  const schema: JsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: configClass.name,
    ...objectSchema(configClass, new Set()),
  };
  for (const path of secrets) {
    const field = schemaAtPath(schema, path);
    if (field) Object.assign(field, { writeOnly: true, 'x-secret': true });
  }
  return schema;
}

/** The schema of the field at a dotted path (`*` or a number steps into array items), if there is one. */
export function schemaAtPath(schema: JsonSchema, path: string): JsonSchema | undefined {
  let current: JsonSchema | undefined = schema;
  for (const segment of path.split('.')) {
    if (!current) return undefined;
    if (segment === '*' || /^\d+$/.test(segment)) {
      current = current.items as JsonSchema | undefined;
      continue;
    }
    const properties = current.properties as Record<string, JsonSchema> | undefined;
    current = properties?.[segment];
  }
  return current;
}

function objectSchema(configClass: ClassType, seen: Set<ClassType>): JsonSchema {
  if (seen.has(configClass)) return { type: 'object' };
  const inner = new Set(seen).add(configClass);
  const metadata = getMetadataStorage().getTargetValidationMetadatas(configClass, '', true, false) as unknown as Meta[];
  const byProperty = new Map<string, Meta[]>();
  for (const meta of metadata) {
    const list = byProperty.get(meta.propertyName) ?? [];
    list.push(meta);
    byProperty.set(meta.propertyName, list);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const docs = collectDocs(configClass);
  for (const [property, metas] of byProperty) {
    const { schema, optional } = propertySchema(configClass, property, metas, inner);
    const { jsonSchema, ...doc } = docs.get(property) ?? {};
    properties[property] = { ...schema, ...jsonSchema, ...stripUndefined(doc) };
    if (!optional) required.push(property);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

function collectDocs(configClass: ClassType): Map<string, ConfigFieldOptions> {
  const chain: Map<string, ConfigFieldOptions>[] = [];
  for (let c: unknown = configClass; typeof c === 'function' && c !== Function.prototype;) {
    const docs = fieldDocs.get(c);
    if (docs) chain.unshift(docs);
    c = Object.getPrototypeOf(c);
  }
  return new Map(chain.flatMap((docs) => [...docs]));
}

function propertySchema(
  owner: ClassType,
  property: string,
  metas: Meta[],
  seen: Set<ClassType>,
): { schema: JsonSchema; optional: boolean } {
  const value: JsonSchema = {};
  const items: JsonSchema = {};
  let optional = false;
  let isArray = false;
  let nested = false;
  for (const meta of metas) {
    if (meta.type === 'conditionalValidation' && meta.name === 'isOptional') {
      optional = true;
      continue;
    }
    if (meta.type === 'nestedValidation') {
      nested = true;
      if (meta.each) isArray = true;
      continue;
    }
    if (meta.type !== 'customValidation' || !meta.name) continue;
    const target = meta.each ? items : value;
    if (meta.each) isArray = true;
    const c = meta.constraints ?? [];
    switch (meta.name) {
      case 'isString':
        target.type = 'string';
        break;
      case 'isInt':
        target.type = 'integer';
        break;
      case 'isNumber':
        target.type = target.type === 'integer' ? 'integer' : 'number';
        break;
      case 'isBoolean':
        target.type = 'boolean';
        break;
      case 'isObject':
        target.type = 'object';
        break;
      case 'isArray':
        isArray = true;
        break;
      case 'isIn':
        target.enum = [...(c[0] as unknown[])];
        break;
      case 'isEnum':
        target.enum = enumValues(c[0]);
        break;
      case 'min':
        target.minimum = c[0];
        break;
      case 'max':
        target.maximum = c[0];
        break;
      case 'isPositive':
        target.exclusiveMinimum = 0;
        break;
      case 'isLength':
        target.minLength = c[0];
        if (c[1] !== undefined) target.maxLength = c[1];
        break;
      case 'minLength':
        target.minLength = c[0];
        break;
      case 'maxLength':
        target.maxLength = c[0];
        break;
      case 'isNotEmpty':
        if (target.minLength === undefined) target.minLength = 1;
        break;
      case 'matches':
        target.pattern = c[0] instanceof RegExp ? c[0].source : String(c[0]);
        break;
      case 'isUrl':
        target.type = 'string';
        target.format = 'uri';
        break;
      case 'isEmail':
        target.type = 'string';
        target.format = 'email';
        break;
      case 'isUuid':
        target.type = 'string';
        target.format = 'uuid';
        break;
      case 'isIso8601':
      case 'isDateString':
        target.type = 'string';
        target.format = 'date-time';
        break;
      case 'arrayMinSize':
        value.minItems = c[0];
        isArray = true;
        break;
      case 'arrayMaxSize':
        value.maxItems = c[0];
        isArray = true;
        break;
      default:
        break;
    }
  }
  if (nested) {
    const nestedClass = nestedClassOf(owner, property, isArray);
    Object.assign(isArray ? items : value, nestedClass ? objectSchema(nestedClass, seen) : { type: 'object' });
  }
  if (isArray) {
    value.type = 'array';
    if (Object.keys(items).length > 0) value.items = items;
  }
  return { schema: value, optional };
}

/** The class `@Type(() => X)` names for a property, found through class-transformer's own behaviour. */
function nestedClassOf(owner: ClassType, property: string, isArray: boolean): ClassType | undefined {
  try {
    const probe = plainToInstance(owner, { [property]: isArray ? [{}] : {} }) as Record<string, unknown>;
    const sample = isArray ? (probe[property] as unknown[] | undefined)?.[0] : probe[property];
    const ctor = (sample as object | undefined)?.constructor;
    return typeof ctor === 'function' && ctor !== Object ? (ctor as ClassType) : undefined;
  } catch {
    return undefined;
  }
}

function enumValues(entity: unknown): unknown[] {
  if (Array.isArray(entity)) return entity as unknown[];
  if (!entity || typeof entity !== 'object') return [];
  const record = entity as Record<string, unknown>;
  // Numeric TypeScript enums map values back to names; keep only the forward values.
  return Object.keys(record)
    .filter((key) => !/^\d+$/.test(key))
    .map((key) => record[key]);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A problem with one configuration field, named by dotted path (`mapping.identifiers`). */
export interface ConfigProblem {
  field: string;
  problems: string[];
}

/**
 * Validates a raw configuration against its class: unknown fields are refused, nested classes are checked,
 * and every problem is named by its dotted field path. Returns the typed instance when there is no problem.
 *
 * @example
 * ```ts
 * const { config, problems } = await validateConfig(HubSpotConfig, { accessToken: 42, extra: 1 });
 * // problems: [{ field: 'accessToken', problems: ['accessToken must be a string'] },
 * //            { field: 'extra', problems: ['property extra should not exist'] }]
 * ```
 */
export async function validateConfig<Cfg extends object>(
  configClass: new () => Cfg,
  raw: unknown,
): Promise<{ config?: Cfg; problems: ConfigProblem[] }> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: [{ field: '', problems: ['the configuration must be a JSON object'] }] };
  }
  const instance = plainToInstance(configClass, raw);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  const problems = flattenErrors(errors, '');
  return problems.length === 0 ? { config: instance, problems } : { problems };
}

function flattenErrors(errors: ValidationError[], prefix: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) out.push({ field, problems: messages });
    if (error.children?.length) out.push(...flattenErrors(error.children, field));
  }
  return out;
}

/**
 * Reads a dotted path (`auth.token`, `accounts.0.key`).
 *
 * @example getPath({ auth: { token: 't' } }, 'auth.token') // 't'
 */
export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Writes a dotted path, creating intermediate objects as needed.
 *
 * @example setPath(config, 'auth.token', 'new') // config.auth.token === 'new'
 */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let current: Record<string, unknown> = target;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (next === null || typeof next !== 'object') current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  current[segments[segments.length - 1]] = value;
}

/** Every value found at a path; `*` steps into every element of an array or every value of an object. */
function visit(value: unknown, segments: string[], fn: (holder: Record<string, unknown>, key: string) => void): void {
  if (value === null || typeof value !== 'object') return;
  const [head, ...rest] = segments;
  if (head === undefined) return;
  const holder = value as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(holder) : [head];
  for (const key of keys) {
    if (!(key in holder)) continue;
    if (rest.length === 0) fn(holder, key);
    else visit(holder[key], rest, fn);
  }
}

/**
 * A deep copy with every present secret value replaced by `"********"` (what the API returns).
 *
 * @example maskSecrets({ token: 'abc', name: 'x' }, ['token']) // { token: '********', name: 'x' }
 */
export function maskSecrets<T>(config: T, secrets: string[]): T {
  const copy = structuredClone(config);
  for (const path of secrets) {
    visit(copy, path.split('.'), (holder, key) => {
      if (holder[key] !== undefined && holder[key] !== null && holder[key] !== '') holder[key] = SECRET_MASK;
    });
  }
  return copy;
}

/**
 * The non-empty string values of the secret fields, to redact from logs and errors.
 *
 * @example collectSecretValues({ auth: { token: 'abc' } }, ['auth.token']) // ['abc']
 */
export function collectSecretValues(config: unknown, secrets: string[]): string[] {
  const values: string[] = [];
  for (const path of secrets) {
    visit(config, path.split('.'), (holder, key) => {
      const value = holder[key];
      if (typeof value === 'string' && value.length > 0) values.push(value);
      else if (typeof value === 'number') values.push(String(value));
    });
  }
  return values;
}
