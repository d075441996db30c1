import { lazy } from 'react';
import type { PageModule } from '../page.js';

export const page: PageModule = {
  nav: { label: 'Profiles', path: '/profiles', order: 30 },
  routes: [
    { path: '/profiles', component: lazy(() => import('./ProfilesPage.js')) },
    { path: '/profiles/:id', component: lazy(() => import('./ProfilePage.js')) },
  ],
};
