import { relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Connector configuration fields the core must never read by name: a connector declares what the core needs
 * through `SourceDefinition.ingest` (`@plexus/sdk`'s `IngestSettings`), and the core reads only that.
 */
export const CONNECTOR_CONFIG_FIELDS = ['defaultCountry', 'keepFullIp'];

/**
 * Problems with a core file (libs, apps): a read of one of {@link CONNECTOR_CONFIG_FIELDS} on something named
 * `config` — `config.defaultCountry`, `owner.config?.keepFullIp`, `config['defaultCountry']`,
 * `(ctx.config as { defaultCountry?: unknown })`, `const { defaultCountry } = config`.
 */
export function connectorConfigReadProblems(file: string, source: string): string[] {
  const names = CONNECTOR_CONFIG_FIELDS.join('|');
  const patterns = [
    new RegExp(`\\bconfig\\)?\\??\\.(${names})\\b`, 'gi'),
    new RegExp(`\\bconfig\\)?\\??\\.?\\[\\s*['"\`](${names})['"\`]\\s*\\]`, 'gi'),
    new RegExp(`\\bconfig\\b[^;\\n]*\\bas\\s*\\{[^}]*\\b(${names})\\b`, 'gi'),
    new RegExp(`\\{[^}]*\\b(${names})\\b[^}]*\\}\\s*=\\s*[\\w.]*config\\b`, 'gi'),
  ];
  const problems: string[] = [];
  source.split('\n').forEach((text, index) => {
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) {
        problems.push(
          `${relative(ROOT, file)}:${index + 1} reads the connector config field ${m[1]} by name; ` +
            "declare it in the connector's ingest(config) and read ingestSettingsOf() instead",
        );
      }
    }
  });
  return problems;
}
