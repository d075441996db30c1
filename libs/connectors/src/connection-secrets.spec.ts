import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '@plexus/errors';
import { defineSource, IsOptional, IsString, IsUrl, type ConnectorDefinition } from '@plexus/sdk';
import { SecretBox } from '@plexus/storage';
import { ConnectionSecrets, MASK, mergePatch } from './connection-secrets.js';

class ShopConfig {
  @IsOptional()
  @IsString()
  shop?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  feedUrl?: string;

  @IsString()
  token!: string;

  @IsOptional()
  @IsString()
  pageSize?: string;
}

const definition = defineSource<ShopConfig>({
  id: 'shop-like',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Shop-like',
  config: ShopConfig,
  secrets: ['token'],
  addresses: ['shop'],
  pushAuth: 'write-key',
  check: async () => undefined,
  streams: [],
}) as ConnectorDefinition;

describe('ConnectionSecrets', () => {
  const box = new SecretBox(randomBytes(32));
  const secrets = new ConnectionSecrets(box);
  const current = { shop: 'acme', baseUrl: 'https://acme.example.com', token: 'tok-1', pageSize: '50' };

  it('refuses an address change (declared or @IsUrl) that does not send every secret again', () => {
    for (const patch of [
      { baseUrl: 'https://attacker.example.net' },
      { baseUrl: 'https://attacker.example.net', token: MASK },
      { shop: 'evil' },
      { baseUrl: null },
    ]) {
      let error: unknown;
      try {
        secrets.patch(definition, current, patch);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(/re-enter the secrets when the address changes \(config\.token\)/);
    }
  });

  it('accepts an address change that re-enters the secrets, and other changes that keep them masked', () => {
    expect(secrets.patch(definition, current, { baseUrl: 'https://new.example.com', token: 'tok-2' })).toMatchObject({
      baseUrl: 'https://new.example.com',
      token: 'tok-2',
    });
    expect(secrets.patch(definition, current, { pageSize: '10', token: MASK })).toEqual({ ...current, pageSize: '10' });
    expect(secrets.patch(definition, current, { baseUrl: 'https://acme.example.com' })).toEqual(current);
  });

  it('treats credentials inside an address URL as secrets: sealed, masked, kept when sent back masked', () => {
    const config = { token: 'tok-1', feedUrl: 'https://bob:pa%24s@feeds.example.com/a.csv' };
    const sealed = secrets.seal(definition, config);
    expect(JSON.stringify(sealed)).not.toMatch(/bob|pa%24s|tok-1/);
    expect(secrets.open(definition, sealed)).toEqual(config);
    const shown = secrets.mask(definition, sealed);
    expect(shown).toEqual({ token: MASK, feedUrl: 'https://********@feeds.example.com/a.csv' });
    // Sending the view back unchanged keeps the stored URL (and is not an address change).
    expect(secrets.patch(definition, config, { feedUrl: shown.feedUrl, token: MASK })).toEqual(config);
  });

  it('merge-patches configs (null removes, objects merge)', () => {
    expect(mergePatch({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } })).toEqual({ b: { c: 2, d: 3 } });
  });
});
