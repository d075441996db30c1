import { WrittenValuesService } from '@plexus/identity';
import { WrittenValueRepository } from '@plexus/storage';
import { openTestStorage } from '../support/database.js';

const SYSTEM = 'hubspot:62515';

describe.each(['postgres', 'pglite'] as const)('WrittenValuesService on %s (loop prevention)', (engine) => {
  let storage: Awaited<ReturnType<typeof openTestStorage>> | undefined;
  let service: WrittenValuesService;

  beforeAll(async () => {
    storage = await openTestStorage(engine, 'written_values');
    service = new WrittenValuesService(new WrittenValueRepository(storage.database));
  });
  afterAll(async () => {
    await storage?.close();
  });

  it('recognises exactly the last value written to a property of a record', async () => {
    const recorded = await service.recordWrites('dst_1', [
      {
        system: SYSTEM,
        object: 'contacts',
        id: '101',
        profileId: 'p1',
        values: { firstname: 'Ada', plexus_ltv: '1500' },
      },
      { system: SYSTEM, object: 'contacts', id: '102', values: { firstname: null } },
    ]);
    expect(recorded).toBe(3);
    const ask = (id: string, property: string, value: string | null) =>
      service.matches(SYSTEM, 'contacts', [{ id, property, value }]).then(([m]) => m);

    expect(await ask('101', 'firstname', 'Ada')).toBe(true);
    expect(await ask('101', 'plexus_ltv', '1500')).toBe(true);
    expect(await ask('102', 'firstname', null)).toBe(true);
    // Changed in the CRM since, another property, another record, another system: observations.
    expect(await ask('101', 'firstname', 'Adeline')).toBe(false);
    expect(await ask('101', 'lastname', 'Ada')).toBe(false);
    expect(await ask('102', 'firstname', 'null')).toBe(false);
    expect(await ask('103', 'firstname', 'Ada')).toBe(false);
    expect(
      await service.matches('hubspot:999', 'contacts', [{ id: '101', property: 'firstname', value: 'Ada' }]),
    ).toEqual([false]);

    // A later write replaces the earlier one: the old value read back is a change made in the CRM.
    await service.recordWrites('dst_1', [
      { system: SYSTEM, object: 'contacts', id: '101', profileId: 'p1', values: { firstname: 'Adeline' } },
      { system: SYSTEM, object: 'contacts', id: '101', profileId: 'p1', values: { firstname: 'Adeline B.' } },
    ]);
    expect(
      await service.matches(SYSTEM, 'contacts', [
        { id: '101', property: 'firstname', value: 'Ada' },
        { id: '101', property: 'firstname', value: 'Adeline B.' },
        { id: '101', property: 'plexus_ltv', value: '1500' },
      ]),
    ).toEqual([false, true, true]);
  });

  it('skips reports without a key, and forgets a profile on erasure', async () => {
    expect(
      await service.recordWrites('dst_1', [
        { system: '', object: 'contacts', id: '1', values: { a: 'b' } },
        { system: SYSTEM, object: 'contacts', id: '201', profileId: 'p2', values: { firstname: 'Bo', n: 4 as never } },
      ]),
    ).toBe(1);
    expect(await service.recordWrites('dst_1', undefined)).toBe(0);
    expect(await service.forgetProfile('p2')).toBe(1);
    expect(await service.matches(SYSTEM, 'contacts', [{ id: '201', property: 'firstname', value: 'Bo' }])).toEqual([
      false,
    ]);
  });
});
