import { NotFoundError } from '@plexus/errors';
import type { AuditRepository } from '@plexus/storage';
import { AuditService, REMOVED, withoutSecrets } from './audit.service.js';

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

describe('AuditService.stateOf', () => {
  // The repository is not touched by stateOf.
  const service = () => new AuditService({} as AuditRepository);

  it('gives the loader’s state, and nothing for a type without a loader', async () => {
    const audit = service();
    audit.registerState('sources', async (id) => ({ id }));
    await expect(audit.stateOf('sources', 'src_1')).resolves.toEqual({ id: 'src_1' });
    await expect(audit.stateOf('audiences', 'a')).resolves.toBeUndefined();
  });

  it('gives nothing for a target that does not exist', async () => {
    const audit = service();
    audit.registerState('sources', () => Promise.reject(new NotFoundError('No source src_1')));
    await expect(audit.stateOf('sources', 'src_1')).resolves.toBeUndefined();
  });

  it('gives nothing for an id no row can have (the database refuses it as data)', async () => {
    const audit = service();
    const refused = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    audit.registerState('sources', () => Promise.reject(refused));
    await expect(audit.stateOf('sources', 'src_\u0000')).resolves.toBeUndefined();
  });

  it('throws any other failure, so the change is not made without its earlier state', async () => {
    const audit = service();
    audit.registerState('sources', () => Promise.reject(new Error('connection terminated unexpectedly')));
    await expect(audit.stateOf('sources', 'src_1')).rejects.toThrow('connection terminated unexpectedly');
    const denied = Object.assign(new Error('permission denied for table connections'), { code: '42501' });
    audit.registerState('destinations', () => Promise.reject(denied));
    await expect(audit.stateOf('destinations', 'dst_1')).rejects.toBe(denied);
  });
});
