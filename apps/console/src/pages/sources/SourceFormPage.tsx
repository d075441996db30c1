import { useMemo, useState } from 'react';
import Form from '@rjsf/core';
import { Anchor, Button, Group, Loader, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import type { Connection, Schedule } from '../../api/views.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { useCatalog, useSource } from './queries.js';
import { cspSafeValidator } from './csp-validator.js';
import { configPatch, formSchema, formUiSchema } from './schema-form.js';
import { ScheduleInput } from './ScheduleInput.js';
import { issuedWriteKeys } from './write-keys.js';

/** Create (`/sources/new/:connector`) or edit (`/sources/:id/edit`) a source with its connector's generated form. */
export default function SourceFormPage() {
  const params = useParams<{ connector?: string; id?: string }>();
  const source = useSource(params.id);
  const catalog = useCatalog();
  const connectorId = params.connector ?? source.data?.connector;
  const entry = catalog.data?.data.find((c) => c.id === connectorId);
  if (catalog.error || source.error) return <ErrorAlert error={catalog.error ?? source.error} />;
  if (!catalog.data || (params.id && !source.data)) return <Loader role="status" aria-label="Loading" />;
  if (!entry) return <ErrorAlert error={new Error(`No connector ${connectorId ?? ''} in the catalog`)} />;
  return <SourceForm key={source.data?.id ?? entry.id} entry={entry} existing={source.data} />;
}

function SourceForm({
  entry,
  existing,
}: {
  entry: NonNullable<ReturnType<typeof useCatalog>['data']>['data'][number];
  existing?: Connection;
}) {
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const [name, setName] = useState(existing?.name ?? '');
  const [schedule, setSchedule] = useState<Schedule | null>(existing?.schedule ?? null);
  const [config, setConfig] = useState<Record<string, unknown>>(existing?.config ?? {});
  const schema = useMemo(() => formSchema(entry.configSchema), [entry]);
  const uiSchema = useMemo(() => formUiSchema(schema, existing?.config), [schema, existing]);

  const save = useMutation({
    mutationFn: async (formData: Record<string, unknown>) => {
      if (existing) {
        return unwrap(
          api.PATCH('/v1/sources/{id}', {
            params: { path: { id: existing.id } },
            body: { name, config: configPatch(existing.config, formData), schedule },
          }),
        );
      }
      return unwrap(api.POST('/v1/sources', { body: { name, connector: entry.id, config: formData, schedule } }));
    },
    onSuccess: async (saved) => {
      if (saved.writeKey) issuedWriteKeys.set(saved.id, saved.writeKey);
      await queryClient.invalidateQueries({ queryKey: ['sources'] });
      navigate(`/sources/${saved.id}`);
    },
  });

  return (
    <Stack maw={760}>
      <Anchor component={Link} href={existing ? `/sources/${existing.id}` : '/sources'}>
        ← Back
      </Anchor>
      <Title order={1}>{existing ? `Edit ${existing.name}` : `New ${entry.displayName} source`}</Title>
      {entry.description && <Text size="sm">{entry.description}</Text>}
      <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
      <ScheduleInput value={schedule} onChange={setSchedule} />
      <Title order={2} size="h4">
        Configuration
      </Title>
      <div className="plexus-form">
        <Form
          schema={schema}
          uiSchema={uiSchema}
          formData={config}
          validator={cspSafeValidator}
          showErrorList="top"
          noHtml5Validate
          onChange={(e) => setConfig((e.formData ?? {}) as Record<string, unknown>)}
          onSubmit={(e) => save.mutate((e.formData ?? {}) as Record<string, unknown>)}
        >
          <Stack mt="md">
            <ErrorAlert error={save.error} title="The source was not saved" />
            <Group>
              <Button type="submit" loading={save.isPending}>
                {existing ? 'Save changes' : 'Create source'}
              </Button>
            </Group>
          </Stack>
        </Form>
      </div>
    </Stack>
  );
}
