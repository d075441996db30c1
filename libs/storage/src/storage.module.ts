import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Environment } from '@plexus/config';
import { ApiKeyRepository } from './api-key.repository.js';
import { AuditRepository } from './audit/audit.repository.js';
import { ConnectionRepository } from './connections/connection.repository.js';
import { RunRepository } from './connections/run.repository.js';
import { UploadRepository } from './connections/upload.repository.js';
import { StatsRepository } from './stats/stats.repository.js';
import { securePrivateTree } from './data-dir.js';
import { Database } from './database.js';
import { migrate } from './migrator.js';
import { resolveMasterKey, SecretBox } from './secret-box.js';

export interface StorageModuleOptions {
  /** Apply pending migrations while the module starts (default true). */
  migrate?: boolean;
}

class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(Database) private readonly database: Database) {}
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** The only module that talks to the database: the connection, migrations, repositories and secret sealing. */
@Global()
@Module({})
export class StorageModule {
  static forRoot(options: StorageModuleOptions = {}): DynamicModule {
    return {
      module: StorageModule,
      providers: [
        {
          provide: Database,
          inject: [Environment],
          useFactory: async (env: Environment): Promise<Database> => {
            const logger = new Logger('Storage');
            // DATA_DIR holds the master key, the admin key and the embedded database: the hub's user only.
            for (const problem of securePrivateTree(env.DATA_DIR)) logger.warn(`cannot make private: ${problem}`);
            const database = await Database.open({
              url: env.DATABASE_URL,
              dataDir: env.DATA_DIR,
              parallelReads: env.DATABASE_PARALLEL_READS,
              preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
            });
            if (options.migrate !== false) {
              const result = await migrate(database);
              if (result.applied.length > 0) logger.log(`applied migrations ${result.applied.join(', ')}`);
            }
            logger.log(`database: ${database.description}`);
            return database;
          },
        },
        {
          provide: SecretBox,
          inject: [Environment],
          useFactory: (env: Environment): SecretBox => {
            const source = resolveMasterKey(env.PLEXUS_MASTER_KEY, env.DATA_DIR);
            if (source.generatedAt) {
              new Logger('Storage').warn(
                `PLEXUS_MASTER_KEY is not set: generated a master key into ${source.generatedAt} (mode 0600). ` +
                  'Set PLEXUS_MASTER_KEY in production so every process shares one key.',
              );
            }
            return new SecretBox(source.key);
          },
        },
        DatabaseCloser,
        ApiKeyRepository,
        ConnectionRepository,
        RunRepository,
        AuditRepository,
        UploadRepository,
        StatsRepository,
      ],
      exports: [
        Database,
        SecretBox,
        ApiKeyRepository,
        ConnectionRepository,
        RunRepository,
        AuditRepository,
        UploadRepository,
        StatsRepository,
      ],
    };
  }
}
