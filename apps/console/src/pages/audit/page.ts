import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Audit log', path: '/audit', order: 95, scope: 'admin' },
  routes: [{ path: '/audit', component: lazy(() => import('./AuditPage.js')) }],
};
