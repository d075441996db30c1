import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'API keys', path: '/api-keys', order: 90, scope: 'admin' },
  routes: [{ path: '/api-keys', component: lazy(() => import('./ApiKeysPage.js')) }],
};
