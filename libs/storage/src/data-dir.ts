import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates `DATA_DIR` if needed and makes it private to the hub's user: the folder and every folder below it
 * 0700, every file 0600 (the embedded database, generated keys, uploads). Symlinks are left alone. A file the
 * process cannot chmod (owned by someone else) is reported in the returned list, not fatal.
 */
export function securePrivateTree(root: string): string[] {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const problems: string[] = [];
  const visit = (path: string): void => {
    let info;
    try {
      info = lstatSync(path);
    } catch {
      return; // removed meanwhile
    }
    if (info.isSymbolicLink()) return;
    const mode = info.isDirectory() ? 0o700 : 0o600;
    if ((info.mode & 0o777) !== mode) {
      try {
        chmodSync(path, mode);
      } catch (error) {
        problems.push(`${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
    if (info.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
  };
  visit(root);
  return problems;
}
