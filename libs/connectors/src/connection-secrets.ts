import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@plexus/errors';
import {
  addressPaths,
  getPath,
  hasUrlCredentials,
  maskUrlCredentials,
  SECRET_MASK,
  setPath,
  type ConnectorDefinition,
} from '@plexus/sdk';
import { SecretBox } from '@plexus/storage';

export const MASK = SECRET_MASK;

/**
 * JSON merge patch (RFC 7386) of a config: `null` removes a field, objects merge, anything else replaces.
 *
 * @example mergePatch({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } }) // { b: { c: 2, d: 3 } }
 */
export function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = mergePatch(out[key], value);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The rules of connector secrets, in one place: which values are secret (the manifest's `secrets`, and
 * credentials written into an address URL), sealing them at rest, masking them in every answer, and binding
 * them to the addresses they were entered for.
 */
@Injectable()
export class ConnectionSecrets {
  constructor(private readonly box: SecretBox) {}

  /** The config as stored: every secret value, and every address URL carrying credentials, encrypted. */
  seal(definition: ConnectorDefinition, config: Record<string, unknown>): Record<string, unknown> {
    const out = structuredClone(config);
    for (const path of definition.secrets) {
      const value = getPath(out, path);
      if (typeof value === 'string' && !this.box.isSealed(value)) setPath(out, path, this.box.seal(value));
    }
    for (const path of addressPaths(definition)) {
      const value = getPath(out, path);
      if (hasUrlCredentials(value)) setPath(out, path, this.box.seal(value));
    }
    return out;
  }

  /** The stored config with its sealed values decrypted, for running the connector. */
  open(definition: ConnectorDefinition, stored: Record<string, unknown>): Record<string, unknown> {
    const out = structuredClone(stored);
    for (const path of [...definition.secrets, ...addressPaths(definition)]) {
      const value = getPath(out, path);
      if (this.box.isSealed(value)) setPath(out, path, this.box.open(value));
    }
    return out;
  }

  /** What the API shows: secrets as "********", URL credentials as `https://********@host/…`. */
  mask(definition: ConnectorDefinition | undefined, stored: Record<string, unknown>): Record<string, unknown> {
    const config = structuredClone(stored);
    if (!definition) {
      // Unknown connector (plugin removed): still never show anything that looks sealed.
      for (const [k, v] of Object.entries(config)) if (this.box.isSealed(v)) config[k] = MASK;
      return config;
    }
    for (const path of definition.secrets) if (getPath(config, path) !== undefined) setPath(config, path, MASK);
    for (const path of addressPaths(definition)) {
      const value = getPath(config, path);
      if (this.box.isSealed(value)) setPath(config, path, maskUrlCredentials(this.box.open(value)));
    }
    return config;
  }

  /**
   * Applies a merge patch to the opened config. "********" for a secret (or the masked form of a stored URL)
   * keeps the stored value. When an address changes, every stored secret must be sent again: a secret entered
   * for one host is never sent to another (the whole patch is refused, naming the fields).
   */
  patch(
    definition: ConnectorDefinition,
    current: Record<string, unknown>,
    patch: Record<string, unknown>,
  ): Record<string, unknown> {
    const unmasked = structuredClone(patch);
    const resent = new Set<string>();
    for (const path of definition.secrets) {
      const sent = getPath(unmasked, path);
      if (sent === MASK) setPath(unmasked, path, getPath(current, path));
      else if (sent !== undefined && sent !== null) resent.add(path);
    }
    const addresses = addressPaths(definition);
    for (const path of addresses) {
      const stored = getPath(current, path);
      if (typeof stored === 'string' && getPath(unmasked, path) === maskUrlCredentials(stored))
        setPath(unmasked, path, stored);
    }
    const merged = mergePatch(current, unmasked);
    const moved = addresses.filter((path) => !isDeepStrictEqual(getPath(current, path), getPath(merged, path)));
    if (moved.length > 0) {
      const missing = definition.secrets.filter((path) => getPath(merged, path) !== undefined && !resent.has(path));
      if (missing.length > 0) {
        const problem = `re-enter the secrets when the address changes (${missing.map((p) => `config.${p}`).join(', ')})`;
        throw InvalidInputError.fields(moved.map((path) => ({ field: `config.${path}`, problems: [problem] })));
      }
    }
    return merged;
  }
}
