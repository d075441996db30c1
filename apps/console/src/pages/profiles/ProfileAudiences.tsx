import { Anchor, Badge, Card, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { when } from '../../components/format.js';
import { Reason } from '../audiences/Reason.js';

/** Every audience, whether this profile is in it, and why — evaluated live by the API. */
export function ProfileAudiences({ profileId }: { profileId: string }) {
  const audiences = useQuery({
    queryKey: ['profiles', profileId, 'audiences'],
    queryFn: () => unwrap(api.GET('/v1/profiles/{id}/audiences', { params: { path: { id: profileId } } })),
  });
  const rows = audiences.data?.data ?? [];
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Audiences
      </Title>
      <ErrorAlert error={audiences.error} />
      {audiences.isSuccess && rows.length === 0 ? (
        <Text size="sm">No audiences defined.</Text>
      ) : (
        <DataTable
          label="Audiences"
          minWidth={560}
          columns={['Audience', 'Member', 'Why']}
          rows={rows.map((a) => ({
            key: a.audienceId,
            cells: [
              <Anchor component={Link} href={`/audiences/${a.audienceId}`}>
                {a.name}
              </Anchor>,
              a.member ? (
                <Badge variant="light" color="green" title={`since ${when(a.enteredAt)}`}>
                  member
                </Badge>
              ) : (
                <Badge variant="light" color="gray">
                  not a member
                </Badge>
              ),
              <Reason reason={a.reason} />,
            ],
          }))}
        />
      )}
    </Card>
  );
}
