import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Activations', path: '/activations', order: 40 },
  routes: [
    { path: '/activations', component: lazy(() => import('./ActivationsPage.js')) },
    // The form page carries the JSON-schema form library (shared with the sources' forms); only it loads it.
    { path: '/activations/new', component: lazy(() => import('./ActivationFormPage.js')) },
    { path: '/activations/:id', component: lazy(() => import('./ActivationPage.js')) },
  ],
};
