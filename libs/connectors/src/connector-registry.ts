import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Environment } from '@plexus/config';
import { isSdkCompatible, SDK_VERSION, validateDefinition, type ConnectorDefinition } from '@plexus/sdk';

export interface LoadedConnector {
  id: string;
  kind: 'source' | 'destination';
  definition: ConnectorDefinition;
  /** Folder or npm package it came from. */
  origin: string;
}

export interface LoadProblem {
  origin: string;
  reason: string;
}

const HERE = fileURLToPath(import.meta.url);
/** Running from TypeScript sources (tests) or from the compiled dist/ tree. */
const ENTRY = HERE.endsWith('.ts') ? 'index.ts' : 'index.js';
/** `connectors/` next to `libs/` — in the source tree and in dist/ alike. */
export const BUILTIN_CONNECTORS_DIR = resolve(dirname(HERE), '../../../connectors');

/**
 * Discovers connectors: every `connectors/<id>/` folder, folders listed in CONNECTORS_PATH, and installed npm
 * packages named `plexus-connector-*` (or `@scope/plexus-connector-*`). A plugin that fails to load, has an
 * invalid definition or an incompatible `sdk` range is reported with its reason and skipped; the hub starts anyway.
 */
@Injectable()
export class ConnectorRegistry implements OnModuleInit {
  private readonly logger = new Logger('Connectors');
  private readonly connectors = new Map<string, LoadedConnector>();
  private readonly loadProblems: LoadProblem[] = [];
  private loaded?: Promise<void>;

  constructor(private readonly env: Environment) {}

  async onModuleInit(): Promise<void> {
    await this.ready();
  }

  ready(): Promise<void> {
    this.loaded ??= this.loadAll();
    return this.loaded;
  }

  get(id: string): LoadedConnector | undefined {
    return this.connectors.get(id);
  }

  list(): LoadedConnector[] {
    return [...this.connectors.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  problems(): LoadProblem[] {
    return [...this.loadProblems];
  }

  private async loadAll(): Promise<void> {
    const folders = [BUILTIN_CONNECTORS_DIR, ...(this.env.CONNECTORS_PATH?.split(':').filter(Boolean) ?? [])];
    for (const folder of folders) {
      if (!existsSync(folder)) continue;
      for (const name of readdirSync(folder).sort()) {
        const dir = join(folder, name);
        if (!statSync(dir).isDirectory() || name.startsWith('.') || name.startsWith('_')) continue;
        const entry = [join(dir, ENTRY), join(dir, 'index.js')].find((f) => existsSync(f));
        if (!entry) {
          this.reject(dir, `no ${ENTRY} in the folder`);
          continue;
        }
        await this.loadModule(dir, pathToFileURL(entry).href, name);
      }
    }
    for (const pkg of this.pluginPackages()) await this.loadModule(pkg.name, pkg.url);
    this.logger.log(
      `loaded ${this.connectors.size} connectors (${this.list()
        .map((c) => c.id)
        .join(', ')})` + (this.loadProblems.length ? `; skipped ${this.loadProblems.length}` : ''),
    );
  }

  private pluginPackages(): Array<{ name: string; url: string }> {
    const nodeModules = join(process.cwd(), 'node_modules');
    if (!existsSync(nodeModules)) return [];
    const names: string[] = [];
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith('plexus-connector-')) names.push(entry);
      else if (entry.startsWith('@') && statSync(join(nodeModules, entry)).isDirectory()) {
        for (const sub of readdirSync(join(nodeModules, entry)))
          if (sub.startsWith('plexus-connector-')) names.push(`${entry}/${sub}`);
      }
    }
    const require = createRequire(join(process.cwd(), 'package.json'));
    const out: Array<{ name: string; url: string }> = [];
    for (const name of names) {
      try {
        out.push({ name, url: pathToFileURL(resolvePackageEntry(require, nodeModules, name)).href });
      } catch (error) {
        this.reject(name, `cannot resolve the package entry: ${(error as Error).message}`);
      }
    }
    return out;
  }

  private async loadModule(origin: string, url: string, folderName?: string): Promise<void> {
    let definition: unknown;
    try {
      const mod = (await import(url)) as { default?: unknown; connector?: unknown };
      definition = mod.default ?? mod.connector;
    } catch (error) {
      this.reject(origin, `throws on load: ${(error as Error).message}`);
      return;
    }
    const problems = validateDefinition(definition);
    if (problems.length > 0) {
      this.reject(origin, `invalid definition: ${problems.join('; ')}`);
      return;
    }
    const def = definition as ConnectorDefinition;
    if (!isSdkCompatible(def.sdk)) {
      this.reject(origin, `needs @plexus/sdk ${def.sdk}, this hub has ${SDK_VERSION}`);
      return;
    }
    if (folderName !== undefined && folderName !== def.id) {
      this.reject(origin, `folder name ${folderName} differs from the connector id ${def.id}`);
      return;
    }
    if (this.connectors.has(def.id)) {
      this.reject(
        origin,
        `duplicate connector id ${def.id} (already loaded from ${this.connectors.get(def.id)!.origin})`,
      );
      return;
    }
    this.connectors.set(def.id, { id: def.id, kind: def.kind, definition: def, origin });
  }

  private reject(origin: string, reason: string): void {
    this.loadProblems.push({ origin, reason });
    this.logger.warn(`skipped connector ${origin}: ${reason}`);
  }
}

function resolvePackageEntry(require: NodeJS.Require, nodeModules: string, name: string): string {
  try {
    return require.resolve(name);
  } catch {
    // ESM-only packages may export only an "import" condition: read package.json ourselves.
    const dir = join(nodeModules, name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      main?: string;
      exports?: string | Record<string, unknown>;
    };
    const exp = pkg.exports;
    const fromExports =
      typeof exp === 'string'
        ? exp
        : typeof exp?.['.'] === 'string'
          ? exp['.']
          : ((exp?.['.'] as Record<string, string> | undefined)?.import ?? (exp?.import as string | undefined));
    return join(dir, fromExports ?? pkg.main ?? 'index.js');
  }
}
