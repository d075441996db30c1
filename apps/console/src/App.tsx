import { Suspense } from 'react';
import { Route, Switch } from 'wouter';
import { Center, Loader } from '@mantine/core';
import { useApiKey } from './auth/session.js';
import { SignIn } from './auth/SignIn.js';
import { Shell } from './layout/Shell.js';
import { ROUTES } from './pages.js';
import { NotFound } from './components/NotFound.js';

/** Nothing but the sign-in page is reachable without a key. */
export function App() {
  const key = useApiKey();
  if (!key) return <SignIn />;
  return (
    <Shell>
      <Suspense
        fallback={
          <Center p="xl">
            <Loader role="status" aria-label="Loading page" />
          </Center>
        }
      >
        <Switch>
          {ROUTES.map((r) => (
            <Route key={r.path} path={r.path} component={r.component} />
          ))}
          <Route component={NotFound} />
        </Switch>
      </Suspense>
    </Shell>
  );
}
