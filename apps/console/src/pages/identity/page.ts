import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Identity rules', path: '/identity', order: 40 },
  routes: [{ path: '/identity', component: lazy(() => import('./IdentityRulesPage.js')) }],
};
