import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const CONSOLE_SRC = join(ROOT, 'apps/console');
export const CONSOLE_DIST = join(ROOT, 'dist/console');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

const isFresh = (): boolean => {
  const index = join(CONSOLE_DIST, 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= newestMtime(CONSOLE_SRC);
};

/** A lock older than this was left by a killed test run: it is taken over. */
const STALE_LOCK_MS = 300_000;

/**
 * Builds the console (`npm run build:console`) unless dist/console is newer than every file of apps/console,
 * so browser tests always drive the code in the tree. Test files run in parallel workers: one builds at a time
 * (a directory created atomically is the lock), and the others wait and then find the build fresh — a second
 * build would empty dist/console under a browser already loading it.
 */
export function ensureConsoleBuilt(): void {
  if (isFresh()) return;
  const lock = join(ROOT, 'dist/.console-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    try {
      if (statSync(lock).mtimeMs < Date.now() - STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // released meanwhile: try again
    }
    Atomics.wait(pause, 0, 0, 250);
  }
  try {
    if (isFresh()) return;
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        join(CONSOLE_SRC, 'vite.config.ts'),
        '--logLevel',
        'error',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Gzipped bytes of the JavaScript a browser must load before the console first renders: the entry chunk and
 * every chunk it imports statically, from Vite's manifest. Lazy pages and their libraries are not counted.
 */
export function firstLoadGzipBytes(): { bytes: number; files: string[] } {
  const manifest = JSON.parse(readFileSync(join(CONSOLE_DIST, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    { file: string; isEntry?: boolean; imports?: string[] }
  >;
  const seen = new Set<string>();
  const visit = (key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const child of manifest[key]?.imports ?? []) visit(child);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  const files = [...seen].map((key) => manifest[key].file).filter((f) => f.endsWith('.js'));
  const bytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(CONSOLE_DIST, f)), { level: 9 }).length, 0);
  return { bytes, files };
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium, headless; one per test file. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

const AXE_SOURCE = join(ROOT, 'node_modules/axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string;
  nodes: unknown[];
}

/**
 * axe-core's serious and critical violations on the page, once its transitions have ended: a dialog fading in
 * is half transparent, and its text would be judged at the contrast of that moment. axe is evaluated over the
 * DevTools protocol, so the console's own CSP (which forbids inline scripts) stays on.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(async () => {
    const doc = (globalThis as any).document;
    const frame = () => new Promise((done) => (globalThis as any).requestAnimationFrame(() => done(undefined)));
    await frame();
    await frame(); // a transition starts on the frame after the style that triggers it
    const finite = doc
      .getAnimations()
      .filter((a: any) => a.effect?.getComputedTiming().iterations !== Number.POSITIVE_INFINITY);
    await Promise.all(finite.map((a: any) => a.finished.catch(() => undefined)));
  });
  await page.evaluate(readFileSync(AXE_SOURCE, 'utf8'));
  const violations: AxeViolation[] = await page.evaluate(async () => {
    const result = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 3).map((n: any) => ({ target: n.target, why: n.failureSummary })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
