import { mkdirSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigError, Environment } from '@plexus/config';
import { configureOutbound, type OutboundPolicy } from '@plexus/sdk';

/**
 * The outbound policy of this process, from `OUTBOUND_ALLOW` and `IMPORT_DIRS`: connectors reach public
 * addresses and the allowed ones, and read local files only inside the import folders (default
 * `DATA_DIR/imports`). `DATA_DIR` itself is never readable (an upload run is granted its one spooled file), so
 * an import folder may not contain it or lie inside it (other than the default `DATA_DIR/imports`).
 */
export function outboundPolicy(env: Environment): OutboundPolicy {
  const dataDir = realOrResolved(env.DATA_DIR);
  const defaultImports = join(dataDir, 'imports');
  const importDirs = (env.IMPORT_DIRS ?? [defaultImports]).map((dir) => {
    const real = realOrResolved(dir);
    const inDataDir = real === dataDir || real.startsWith(dataDir + sep);
    const holdsDataDir = dataDir.startsWith(real.endsWith(sep) ? real : real + sep);
    const isDefault = real === defaultImports || real.startsWith(defaultImports + sep);
    if ((inDataDir && !isDefault) || holdsDataDir)
      throw new ConfigError([`IMPORT_DIRS=${JSON.stringify(dir)}: may not contain DATA_DIR or lie inside it`]);
    return real;
  });
  return { allow: env.OUTBOUND_ALLOW, readableDirs: importDirs, unreadableDirs: [dataDir] };
}

function realOrResolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** Applies {@link outboundPolicy} to the SDK when the module starts (API and worker processes alike). */
@Injectable()
export class OutboundPolicyInitializer implements OnModuleInit {
  constructor(private readonly env: Environment) {}

  onModuleInit(): void {
    if (this.env.IMPORT_DIRS === undefined)
      mkdirSync(join(this.env.DATA_DIR, 'imports'), { recursive: true, mode: 0o700 });
    configureOutbound(outboundPolicy(this.env));
  }
}
