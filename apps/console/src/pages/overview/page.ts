import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Overview', path: '/', order: 10 },
  routes: [{ path: '/', component: lazy(() => import('./OverviewPage.js')) }],
};
