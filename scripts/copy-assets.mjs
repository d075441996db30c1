// Copies what tsc does not: the SQL migrations, next to the compiled storage lib.
import { cpSync } from 'node:fs';

cpSync(
  new URL('../libs/storage/migrations/', import.meta.url),
  new URL('../dist/libs/storage/migrations/', import.meta.url),
  {
    recursive: true,
  },
);
