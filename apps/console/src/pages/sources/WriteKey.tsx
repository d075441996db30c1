import { useState } from 'react';
import { Alert, Button, Code, List, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { when } from '../../components/format.js';
import { issuedWriteKeys } from './write-keys.js';

/** The snippet of docs/TRACKING.md for analytics.js, pointed at this hub. */
export function analyticsSnippet(writeKey: string, origin: string): string {
  const url = new URL(origin);
  return [
    "import { AnalyticsBrowser } from '@segment/analytics-next';",
    'export const analytics = AnalyticsBrowser.load({',
    `  writeKey: '${writeKey}',`,
    '  cdnSettings: {',
    `    integrations: { 'Segment.io': { apiKey: '${writeKey}', apiHost: '${url.host}/v1', protocol: '${url.protocol.replace(':', '')}' } },`,
    '  },',
    '});',
  ].join('\n');
}

/** Write keys of an http-events source: live keys (prefixes only), rotation, and the analytics.js snippet. */
export function WriteKey({ sourceId }: { sourceId: string }) {
  const canWrite = useCan('sources:write');
  const queryClient = useQueryClient();
  // Shown once: taken from the map so a reload does not show it again.
  const [shown, setShown] = useState(() => {
    const key = issuedWriteKeys.get(sourceId) ?? null;
    issuedWriteKeys.delete(sourceId);
    return key;
  });
  const keys = useQuery({
    queryKey: ['sources', sourceId, 'write-keys'],
    queryFn: () => unwrap(api.GET('/v1/sources/{id}/write-keys', { params: { path: { id: sourceId } } })),
  });
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/sources/{id}/write-key', { params: { path: { id: sourceId } }, body: { graceSeconds: 3600 } }),
      ),
    onSuccess: async (r) => {
      setShown(r.writeKey);
      await queryClient.invalidateQueries({ queryKey: ['sources', sourceId, 'write-keys'] });
    },
  });
  const prefix = keys.data?.data[0]?.prefix;
  return (
    <Stack>
      {shown && (
        <Alert color="yellow" title="Copy the write key now: it is not shown again">
          <Code data-testid="write-key">{shown}</Code>
        </Alert>
      )}
      <ErrorAlert error={keys.error ?? rotate.error} />
      <Title order={3} size="h5">
        Live keys
      </Title>
      <List>
        {keys.data?.data.map((k) => (
          <List.Item key={k.id}>
            <Code>{k.prefix}…</Code> created {when(k.createdAt)}
            {k.expiresAt ? `, valid until ${when(k.expiresAt)}` : ''}
          </List.Item>
        ))}
      </List>
      {canWrite && (
        <Button variant="default" onClick={() => rotate.mutate()} loading={rotate.isPending} w="fit-content">
          Rotate write key (old keys keep working for an hour)
        </Button>
      )}
      <Title order={3} size="h5">
        analytics.js snippet
      </Title>
      <Text size="sm">Send events from a website with Segment&apos;s analytics.js pointed at this hub:</Text>
      <Code block data-testid="snippet">
        {analyticsSnippet(shown ?? (prefix ? `${prefix}…` : 'wk_…'), window.location.origin)}
      </Code>
    </Stack>
  );
}
