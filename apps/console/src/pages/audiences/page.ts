import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Audiences', path: '/audiences', order: 35 },
  routes: [
    { path: '/audiences', component: lazy(() => import('./AudiencesPage.js')) },
    { path: '/audiences/new', component: lazy(() => import('./AudienceFormPage.js')) },
    { path: '/audiences/:id/edit', component: lazy(() => import('./AudienceFormPage.js')) },
    { path: '/audiences/:id', component: lazy(() => import('./AudiencePage.js')) },
  ],
};
