import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { errorBody } from '../http/error-body.js';

export const CONSOLE_PATH = '/console';

/**
 * Where `npm run build` wrote the console: `dist/console`, found both from the compiled API (dist/apps/…)
 * and from its sources (tests run the API from TypeScript).
 */
export function consoleAssetsDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../../console'), resolve(here, '../../../../dist/console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * A content security policy for a single-page app that loads only its own files and talks only to its own
 * origin. Inline styles stay allowed because the component library sets style attributes; scripts do not.
 */
const consoleHelmet = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
  referrerPolicy: { policy: 'no-referrer' },
});

/**
 * Serves the admin console's static files at /console (hashed assets cached for good, index.html never),
 * answers every other path under it with index.html so client-side routes survive a reload, and redirects
 * `/` there. Without a build, /console says how to make one.
 */
export function mountConsole(app: NestExpressApplication, dir = consoleAssetsDir()): void {
  app.use(CONSOLE_PATH, consoleHelmet);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path === '/' && (req.method === 'GET' || req.method === 'HEAD'))
      return res.redirect(302, `${CONSOLE_PATH}/`);
    next();
  });
  if (!dir) {
    app.use(CONSOLE_PATH, (_req: Request, res: Response) => {
      res.status(404).json(errorBody(404, 'The console is not built: run `npm run build`'));
    });
    return;
  }
  app.use(
    `${CONSOLE_PATH}/assets`,
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false, index: false }),
  );
  app.use(CONSOLE_PATH, express.static(dir, { index: false, maxAge: 0 }));
  app.use(CONSOLE_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(join(dir, 'index.html'));
  });
}
