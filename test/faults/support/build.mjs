import { execFileSync } from 'node:child_process';

/** The scenarios spawn the compiled api and worker: build the server once before them. */
export default function build() {
  execFileSync('npm', ['run', 'build:server', '--silent'], { stdio: 'inherit' });
}
