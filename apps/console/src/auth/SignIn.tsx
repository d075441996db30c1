import { useState, type FormEvent } from 'react';
import { Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { api, errorFrom } from '../api/client.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { session } from './session.js';

/** Checks a key against the API before keeping it for the tab's session. */
export function SignIn() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { error: body, response } = await api.GET('/v1/api-keys/me', {
        headers: { authorization: `Bearer ${key.trim()}` },
      });
      if (!response.ok) throw errorFrom(response.status, body, 'Sign-in failed');
      session.signIn(key.trim());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <form onSubmit={(e) => void submit(e)}>
          <Stack>
            <Title order={1} size="h2">
              Plexus console
            </Title>
            <Text size="sm">
              Sign in with an API key: the console offers what its scopes allow. It is kept for this tab only and sent
              as a Bearer token.
            </Text>
            <PasswordInput
              label="API key"
              required
              autoComplete="off"
              value={key}
              onChange={(e) => setKey(e.currentTarget.value)}
            />
            <ErrorAlert error={error} title="Sign-in failed" />
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
