import { REMOVED, withoutSecrets } from './audit.service.js';

describe('withoutSecrets', () => {
  it('removes credential fields at any depth and keeps everything else', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(
      withoutSecrets({
        id: 'k1',
        key: 'plx_abc',
        writeKey: 'wk_abc',
        prefix: 'plx_abcdefghijkl',
        createdAt: at,
        config: { accessToken: 'x', clientSecret: 'y', password: 'z', baseUrl: 'https://api.example', limit: 5 },
        headers: [{ Authorization: 'Bearer q' }],
        keyId: 'k0',
        apiKey: null,
      }),
    ).toEqual({
      id: 'k1',
      key: REMOVED,
      writeKey: REMOVED,
      prefix: 'plx_abcdefghijkl',
      createdAt: at,
      config: {
        accessToken: REMOVED,
        clientSecret: REMOVED,
        password: REMOVED,
        baseUrl: 'https://api.example',
        limit: 5,
      },
      headers: [{ Authorization: REMOVED }],
      keyId: 'k0',
      apiKey: null,
    });
  });
});
