import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, IdentityRulesRepository, MIGRATIONS_DIR, migrate } from '@plexus/storage';
import { CompiledRules, defaultIdentityRules, type IdentityRules } from '@plexus/identity';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('migration 0023: stored blocked-value patterns in RE2 form', () => {
  let testDb: TestDatabase;
  let database: Database;
  const older = mkdtempSync(join(tmpdir(), 'plexus-migrations-'));

  beforeAll(async () => {
    testDb = await createTestDatabase('rules_re2');
    database = await Database.open({ url: testDb.url });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
    rmSync(older, { recursive: true, force: true });
  });

  it('rewrites the backreference defaults saved by earlier versions, so the rules compile and still block', async () => {
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f < '0023'))
      cpSync(join(MIGRATIONS_DIR, file), join(older, file));
    await migrate(database, older);
    // The rules as an admin saved them before: the defaults of that time, with their backreferences.
    const saved: IdentityRules = {
      ...defaultIdentityRules(),
      blocked: [
        { type: 'phone', pattern: '^\\+?(\\d)\\1{5,}$', reason: 'run of one digit' },
        { pattern: '^(\\d)\\1{5,}$', reason: 'run of one digit' },
        { type: 'email', values: ['blocked@acme.io'] },
      ],
    };
    const repository = new IdentityRulesRepository(database);
    await repository.put(saved);
    expect(new CompiledRules(saved).unusablePatterns).toHaveLength(2);

    await migrate(database);
    const rules = (await repository.get())!.rules as IdentityRules;
    const compiled = new CompiledRules(rules);
    expect(compiled.unusablePatterns).toEqual([]);
    expect(rules.blocked[2]).toEqual({ type: 'email', values: ['blocked@acme.io'] });
    expect(compiled.isBlocked('phone', '+4444444')).toBe(true);
    expect(compiled.isBlocked('user_id', '9999999')).toBe(true);
    expect(compiled.isBlocked('user_id', '1234567')).toBe(false);
  });
});
