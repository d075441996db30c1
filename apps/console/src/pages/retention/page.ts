import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Retention', path: '/retention', order: 85 },
  routes: [{ path: '/retention', component: lazy(() => import('./RetentionPage.js')) }],
};
