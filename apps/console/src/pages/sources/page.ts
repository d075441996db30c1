import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Sources', path: '/sources', order: 20 },
  routes: [
    { path: '/sources', component: lazy(() => import('./SourcesPage.js')) },
    // The form pages carry the JSON-schema form library; only they load it.
    { path: '/sources/new/:connector', component: lazy(() => import('./SourceFormPage.js')) },
    { path: '/sources/:id/edit', component: lazy(() => import('./SourceFormPage.js')) },
    { path: '/sources/:id', component: lazy(() => import('./SourcePage.js')) },
  ],
};
