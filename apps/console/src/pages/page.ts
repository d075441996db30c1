import type { ComponentType, LazyExoticComponent } from 'react';
import type { Scope } from '../api/views.js';

/**
 * One folder under `pages/` is one resource: its `page.ts` exports `page`, found by `pages.ts` at build time,
 * so adding a page (audiences, activations, privacy, audit) is one new folder and no list changes.
 */
export interface PageModule {
  /**
   * Entry in the navigation; `order` sorts it, `scope` (default `read`) is what a key needs to see the entry.
   * Omit for pages reached only by links.
   */
  nav?: { label: string; path: string; order: number; scope?: Scope };
  routes: Array<{ path: string; component: LazyExoticComponent<ComponentType> }>;
}
