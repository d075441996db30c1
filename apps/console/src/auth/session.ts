import { useSyncExternalStore } from 'react';

const STORAGE_KEY = 'plexus.apiKey';
const listeners = new Set<() => void>();

/**
 * The admin API key of this tab. Kept in sessionStorage only (gone when the tab closes, never in a cookie,
 * so there is no ambient credential to forge requests with) and sent as a Bearer token.
 */
export const session = {
  key(): string | null {
    return sessionStorage.getItem(STORAGE_KEY);
  },
  signIn(key: string): void {
    sessionStorage.setItem(STORAGE_KEY, key);
    listeners.forEach((l) => l());
  },
  signOut(): void {
    if (sessionStorage.getItem(STORAGE_KEY) === null) return;
    sessionStorage.removeItem(STORAGE_KEY);
    listeners.forEach((l) => l());
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /**
   * A link printed by `npm run demo` carries the key in the URL fragment (never sent to a server):
   * it is moved into the session and removed from the address bar and history.
   */
  takeKeyFromLocation(): string | null {
    const match = /(?:^#|&)key=([^&]+)/.exec(window.location.hash);
    if (!match?.[1]) return null;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    return decodeURIComponent(match[1]);
  },
};

export function useApiKey(): string | null {
  return useSyncExternalStore(session.subscribe, session.key);
}
