import { Anchor, Badge, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'wouter';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { fetchSources, scheduleText, useCatalog } from './queries.js';

export default function SourcesPage() {
  const canWrite = useCan('sources:write');
  const catalog = useCatalog();
  const sources = usePagedList(['sources', 'list'], fetchSources);
  const sourceConnectors = catalog.data?.data.filter((c) => c.kind === 'source') ?? [];
  return (
    <Stack>
      <Title order={1}>Sources</Title>
      <ErrorAlert error={sources.error} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Connector</Table.Th>
              <Table.Th>Schedule</Table.Th>
              <Table.Th>Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sources.rows.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>
                  <Anchor component={Link} href={`/sources/${s.id}`}>
                    {s.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>{s.connector}</Table.Td>
                <Table.Td>{scheduleText(s.schedule)}</Table.Td>
                <Table.Td>{when(s.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
            {sources.isSuccess && sources.rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={4}>No sources yet: add one from the catalog below.</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...sources} />

      <Title order={2} size="h3">
        Connector catalog
      </Title>
      <ErrorAlert error={catalog.error} />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {sourceConnectors.map((c) => (
          <Card key={c.id} withBorder padding="md">
            <Group justify="space-between" mb="xs">
              <Text fw={600}>{c.displayName}</Text>
              <Badge variant="light">{c.version}</Badge>
            </Group>
            <Text size="sm" mb="sm">
              {c.description ?? c.id}
            </Text>
            <Group gap="xs" mb="sm">
              {c.uploads && (
                <Badge variant="light" color="gray">
                  uploads
                </Badge>
              )}
              {c.webhook && (
                <Badge variant="light" color="gray">
                  webhooks
                </Badge>
              )}
              {c.writeKey && (
                <Badge variant="light" color="gray">
                  write key
                </Badge>
              )}
            </Group>
            {canWrite && (
              <Button
                component={Link}
                href={`/sources/new/${c.id}`}
                variant="light"
                aria-label={`Add ${c.displayName} source`}
              >
                Add source
              </Button>
            )}
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}
