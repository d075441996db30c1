import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';

const VERSION = 'v1';

/**
 * AES-256-GCM encryption of connector secrets at rest. A sealed value is `v1:<iv>:<tag>:<ciphertext>`
 * (base64 parts): the random 96-bit IV makes equal secrets seal differently, the tag detects tampering
 * and a wrong master key.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
    this.key = key;
  }

  static parseKey(text: string): Buffer {
    const trimmed = text.trim();
    return /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(
      ':',
    );
  }

  open(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }

  /**
   * A 32-byte key for another purpose (e.g. `plexus:suppression:v1`), derived from the master key with HKDF-SHA256:
   * every process sharing the master key derives the same one, and it reveals nothing about the master key.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), purpose, 32));
  }

  isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(`${VERSION}:`) && value.split(':').length === 4;
  }
}

export interface MasterKeySource {
  key: Buffer;
  /** Set when the key was generated into DATA_DIR because PLEXUS_MASTER_KEY was unset. */
  generatedAt?: string;
  /** Set when the key was read from a file in DATA_DIR. */
  file?: string;
}

/**
 * PLEXUS_MASTER_KEY when set; otherwise `<dataDir>/master.key`, created with mode 0600 on first use.
 * The file is for development: production sets the variable so every process shares one key.
 */
export function resolveMasterKey(configured: string | undefined, dataDir: string): MasterKeySource {
  if (configured) return { key: SecretBox.parseKey(configured) };
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return { key: SecretBox.parseKey(readFileSync(file, 'utf8')), file };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return { key: SecretBox.parseKey(readFileSync(file, 'utf8')), file };
    throw error;
  }
  chmodSync(file, 0o600);
  return { key, generatedAt: file, file };
}
