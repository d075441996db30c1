import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Environment } from '@plexus/config';
import { ApiKeyRepository, generateApiKey } from '@plexus/storage';

/**
 * Makes sure an admin can get in: ADMIN_API_KEY is stored (hashed) on every boot; with no key configured and
 * none stored yet, one is generated, written to `<DATA_DIR>/admin-api-key` (mode 0600) and printed once.
 */
@Injectable()
export class ApiKeySeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly env: Environment,
    private readonly keys: ApiKeyRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.env.ADMIN_API_KEY) {
      await this.keys.insert({ name: 'ADMIN_API_KEY', key: this.env.ADMIN_API_KEY, scopes: ['admin'] });
      return;
    }
    if ((await this.keys.countActive()) > 0) return;
    const key = generateApiKey();
    await this.keys.insert({ name: 'generated', key, scopes: ['admin'] });
    mkdirSync(this.env.DATA_DIR, { recursive: true });
    const file = join(this.env.DATA_DIR, 'admin-api-key');
    writeFileSync(file, key + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    this.logger.warn(`ADMIN_API_KEY is not set: generated an admin API key into ${file}`);
    process.stdout.write(`\n  Admin API key (shown once, also saved in ${file}):\n  ${key}\n\n`);
  }
}
