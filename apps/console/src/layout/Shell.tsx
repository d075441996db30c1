import type { ReactNode } from 'react';
import { AppShell, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, useLocation } from 'wouter';
import { grants, useCurrentKey } from '../auth/permissions.js';
import { session } from '../auth/session.js';
import { NAV } from '../pages.js';

export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const [location] = useLocation();
  const active = (path: string) => (path === '/' ? location === '/' : location.startsWith(path));
  const me = useCurrentKey().data;
  const entries = NAV.filter((n) => grants(me?.scopes, n.scope ?? 'read'));
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={2} size="h4">
              Plexus
            </Title>
          </Group>
          <Group gap="xs">
            {me && (
              <Text size="xs" visibleFrom="sm" data-testid="signed-in-key">
                {me.name} · {me.scopes.join(', ')}
              </Text>
            )}
            <Button variant="default" size="xs" onClick={() => session.signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {entries.map((n) => (
          <NavLink
            key={n.path}
            component={Link}
            href={n.path}
            label={n.label}
            active={active(n.path)}
            onClick={close}
            aria-current={active(n.path) ? 'page' : undefined}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
