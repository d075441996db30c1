import type { PageModule } from './pages/page.js';

const modules = import.meta.glob<{ page: PageModule }>('./pages/*/page.ts', { eager: true });

/** Every page folder's module, found at build time. */
export const PAGES: PageModule[] = Object.values(modules).map((m) => m.page);

export const NAV = PAGES.flatMap((p) => (p.nav ? [p.nav] : [])).sort((a, b) => a.order - b.order);

export const ROUTES = PAGES.flatMap((p) => p.routes);
