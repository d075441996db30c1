// Copies what tsc does not: the SQL migrations, next to the compiled storage lib.
//
// A file is written only when its content changed, and then whole (a temporary file renamed over it): builds can
// run while processes started from an earlier build read the migrations (the fault suite and the Node 24
// cross-section run side by side, and each builds first), and such a reader must never see a file half-written.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const from = new URL('../libs/storage/migrations/', import.meta.url);
const to = new URL('../dist/libs/storage/migrations/', import.meta.url);

mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  const content = readFileSync(new URL(name, from));
  const target = new URL(name, to);
  let current;
  try {
    current = readFileSync(target);
  } catch {
    current = undefined;
  }
  if (current?.equals(content)) continue;
  const temporary = new URL(`.${name}.${process.pid}.tmp`, to);
  writeFileSync(temporary, content);
  renameSync(temporary, target);
}
