import 'reflect-metadata';
import { ConfigError, loadEnvironment } from '@plexus/config';
import { Database, migrate } from '@plexus/storage';

const USAGE = `Usage: plexus <command>

Commands:
  migrate          apply pending database migrations (DATABASE_URL, or the embedded database under DATA_DIR)
  help             show this help
`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  async migrate() {
    const env = loadEnvironment();
    const database = await Database.open({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
    try {
      const result = await migrate(database);
      process.stdout.write(
        result.applied.length
          ? `applied ${result.applied.join(', ')} on ${database.description}\n`
          : `nothing to apply on ${database.description} (${result.alreadyApplied} applied before)\n`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
  async help() {
    process.stdout.write(USAGE);
    return 0;
  },
};

export async function runCli(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const command = commands[name];
  if (!command) {
    process.stderr.write(`plexus: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    process.stderr.write(
      `plexus ${name}: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`,
    );
    return 1;
  }
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
