import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Privacy requests', path: '/privacy', order: 80, scope: 'privacy' },
  routes: [
    { path: '/privacy', component: lazy(() => import('./PrivacyRequestsPage.js')) },
    { path: '/privacy/requests/:id', component: lazy(() => import('./PrivacyRequestPage.js')) },
  ],
};
