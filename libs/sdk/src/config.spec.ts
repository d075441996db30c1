import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsEnum,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import {
  collectSecretValues,
  ConfigField,
  configJsonSchema,
  getPath,
  maskSecrets,
  setPath,
  validateConfig,
} from './config.js';

enum Region {
  Eu = 'eu',
  Us = 'us',
}

class Auth {
  @IsString() token!: string;
  @IsOptional() @IsString() refreshToken?: string;
}

class Mapping {
  @IsObject() identifiers!: Record<string, string>;
  @IsOptional() @IsString() observedAt?: string;
}

class Account {
  @IsString() @MinLength(2) id!: string;
}

class Cfg {
  @ConfigField({ description: 'API base URL', examples: ['https://api.example.com'] })
  @IsUrl({ require_tld: false })
  baseUrl!: string;
  @ValidateNested() @Type(() => Auth) auth!: Auth;
  @ValidateNested() @Type(() => Mapping) mapping!: Mapping;
  @IsOptional() @IsInt() @Min(1) @Max(500) pageSize?: number;
  @IsOptional() @IsNumber() ratio?: number;
  @IsOptional() @IsBoolean() dryRun?: boolean;
  @IsIn(['csv', 'ndjson']) format!: 'csv' | 'ndjson';
  @IsOptional() @IsEnum(Region) region?: Region;
  @IsOptional() @Length(2, 2) country?: string;
  @IsOptional() @IsString() @MaxLength(10) @Matches(/^[a-z]+$/) slug?: string;
  @IsOptional() @IsEmail() contact?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) @ArrayMinSize(1) tags?: string[];
  @IsOptional() @ValidateNested({ each: true }) @Type(() => Account) accounts?: Account[];
}

const valid = {
  baseUrl: 'http://localhost:8080',
  auth: { token: 'tok' },
  mapping: { identifiers: { email: 'Email' } },
  format: 'csv',
};

describe('configJsonSchema', () => {
  const schema = configJsonSchema(Cfg, ['auth.token', 'auth.refreshToken']) as any;

  it('renders types, bounds, enums, formats and required fields', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required.sort()).toEqual(['auth', 'baseUrl', 'format', 'mapping']);
    expect(schema.properties.baseUrl).toEqual({
      type: 'string',
      format: 'uri',
      description: 'API base URL',
      examples: ['https://api.example.com'],
    });
    expect(schema.properties.pageSize).toEqual({ type: 'integer', minimum: 1, maximum: 500 });
    expect(schema.properties.ratio).toEqual({ type: 'number' });
    expect(schema.properties.dryRun).toEqual({ type: 'boolean' });
    expect(schema.properties.format).toEqual({ enum: ['csv', 'ndjson'] });
    expect(schema.properties.region).toEqual({ enum: ['eu', 'us'] });
    expect(schema.properties.country).toEqual({ minLength: 2, maxLength: 2 });
    expect(schema.properties.slug).toEqual({ type: 'string', maxLength: 10, pattern: '^[a-z]+$' });
    expect(schema.properties.contact).toEqual({ type: 'string', format: 'email' });
    expect(schema.properties.tags).toEqual({ type: 'array', minItems: 1, items: { type: 'string' } });
  });

  it('renders nested classes and arrays of them', () => {
    expect(schema.properties.mapping).toMatchObject({
      type: 'object',
      required: ['identifiers'],
      properties: { identifiers: { type: 'object' }, observedAt: { type: 'string' } },
    });
    expect(schema.properties.accounts).toMatchObject({
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string', minLength: 2 } }, required: ['id'] },
    });
  });

  it('marks secret fields write-only', () => {
    expect(schema.properties.auth.properties.token).toEqual({ type: 'string', writeOnly: true, 'x-secret': true });
    expect(schema.properties.auth.properties.refreshToken['x-secret']).toBe(true);
    expect(schema.properties.baseUrl['x-secret']).toBeUndefined();
  });
});

describe('ConfigField jsonSchema', () => {
  class Columns {
    @ConfigField({
      description: 'name → column',
      jsonSchema: { type: 'object', additionalProperties: { type: 'string' } },
    })
    @IsObject()
    columns!: Record<string, string>;
  }

  it('adds the keywords the decorators cannot express, next to the documentation', () => {
    expect((configJsonSchema(Columns, []) as any).properties.columns).toEqual({
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'name → column',
    });
  });
});

describe('validateConfig', () => {
  it('returns the typed instance of a valid configuration', async () => {
    const { config, problems } = await validateConfig(Cfg, valid);
    expect(problems).toEqual([]);
    expect(config).toBeInstanceOf(Cfg);
    expect(config!.auth).toBeInstanceOf(Auth);
  });

  it('names every bad field by its path, nested ones included, and refuses unknown fields', async () => {
    const { config, problems } = await validateConfig(Cfg, {
      ...valid,
      auth: { token: 5 },
      mapping: { identifiers: 'Email', extra: true },
      format: 'xml',
      pageSize: 0,
      accounts: [{ id: 'ok' }, { id: 'x' }],
      unknown: 1,
    });
    expect(config).toBeUndefined();
    const fields = Object.fromEntries(problems.map((p) => [p.field, p.problems]));
    expect(Object.keys(fields).sort()).toEqual(
      ['accounts.1.id', 'auth.token', 'format', 'mapping.extra', 'mapping.identifiers', 'pageSize', 'unknown'].sort(),
    );
    expect(fields['auth.token']).toEqual(['token must be a string']);
    expect(fields.unknown).toEqual(['property unknown should not exist']);
  });

  it('refuses a configuration that is not an object', async () => {
    expect((await validateConfig(Cfg, 'nope')).problems).toEqual([
      { field: '', problems: ['the configuration must be a JSON object'] },
    ]);
  });
});

describe('paths and secrets', () => {
  const config = { auth: { token: 'tok-1', refreshToken: '' }, accounts: [{ key: 'k1' }, { key: 'k2' }], name: 'n' };

  it('reads and writes dotted paths', () => {
    expect(getPath(config, 'auth.token')).toBe('tok-1');
    expect(getPath(config, 'accounts.1.key')).toBe('k2');
    expect(getPath(config, 'auth.missing.deeper')).toBeUndefined();
    const target: Record<string, unknown> = {};
    setPath(target, 'a.b.c', 1);
    expect(target).toEqual({ a: { b: { c: 1 } } });
  });

  it('masks present secrets in a copy and collects their values', () => {
    const masked = maskSecrets(config, ['auth.token', 'auth.refreshToken', 'accounts.*.key', 'absent']);
    expect(masked).toEqual({
      auth: { token: '********', refreshToken: '' },
      accounts: [{ key: '********' }, { key: '********' }],
      name: 'n',
    });
    expect(config.auth.token).toBe('tok-1');
    expect(collectSecretValues(config, ['auth.token', 'auth.refreshToken', 'accounts.*.key'])).toEqual([
      'tok-1',
      'k1',
      'k2',
    ]);
  });
});
