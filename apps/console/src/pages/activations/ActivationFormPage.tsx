import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import Form from '@rjsf/core';
import {
  Anchor,
  Button,
  Group,
  Loader,
  MultiSelect,
  Radio,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import type { CatalogEntry, Schedule } from '../../api/views.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { useAudienceOptions } from '../audiences/queries.js';
import { cspSafeValidator } from '../sources/csp-validator.js';
import { useCatalog } from '../sources/queries.js';
import { formSchema, formUiSchema } from '../sources/schema-form.js';
import { ScheduleInput } from '../sources/ScheduleInput.js';
import { useDestinations } from './queries.js';

type Mode = 'upsert' | 'mirror';

/**
 * Links an audience to a destination: an existing one, or a new one configured with the form generated from its
 * connector's JSON Schema (as sources are). A new destination is created first; if the API then refuses the
 * activation, the page keeps the destination (it exists now) and shows the API's message.
 */
export default function ActivationFormPage() {
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const destinations = useDestinations();
  const audiences = useAudienceOptions();
  const [audienceId, setAudienceId] = useState<string | null>(null);
  const [choice, setChoice] = useState<'new' | 'existing'>('new');
  const [destinationId, setDestinationId] = useState<string | null>(null);
  const [connectorId, setConnectorId] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [config, setConfig] = useState<Record<string, unknown>>({});
  const [mode, setMode] = useState<Mode>('upsert');
  const [identifiers, setIdentifiers] = useState<string[]>([]);
  const [externalId, setExternalId] = useState('');
  const [schedule, setSchedule] = useState<Schedule | null>(null);

  const destinationConnectors = catalog.data?.data.filter((c) => c.kind === 'destination') ?? [];
  const existing = destinations.data?.data.find((d) => d.id === destinationId);
  const entry = catalog.data?.data.find((c) => c.id === (choice === 'new' ? connectorId : existing?.connector));

  const save = useMutation({
    mutationFn: async (formData: Record<string, unknown> | null) => {
      let target = destinationId ?? '';
      if (choice === 'new') {
        const created = await unwrap(
          api.POST('/v1/destinations', { body: { name, connector: connectorId ?? '', config: formData ?? {} } }),
        );
        target = created.id;
        // From here on the destination exists: a second attempt must not create another.
        setChoice('existing');
        setDestinationId(created.id);
        await queryClient.invalidateQueries({ queryKey: ['destinations'] });
      }
      return unwrap(
        api.POST('/v1/activations', {
          body: {
            audienceId: audienceId ?? '',
            destinationId: target,
            mode,
            ...(identifiers.length > 0 ? { identifiers } : {}),
            ...(externalId.trim() ? { externalId: externalId.trim() } : {}),
            ...(schedule ? { schedule } : {}),
          },
        }),
      );
    },
    onSuccess: async (activation) => {
      await queryClient.invalidateQueries({ queryKey: ['activations'] });
      navigate(`/activations/${activation.id}`);
    },
  });

  if (catalog.error || destinations.error) return <ErrorAlert error={catalog.error ?? destinations.error} />;
  if (!catalog.data || !destinations.data) return <Loader role="status" aria-label="Loading" />;

  const submitArea: ReactNode = (
    <Stack mt="md">
      <ErrorAlert error={save.error} title="The activation was not created" />
      <Group>
        <Button type="submit" loading={save.isPending}>
          Create activation
        </Button>
      </Group>
    </Stack>
  );
  const submitExisting = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(null);
  };

  return (
    <Stack maw={760}>
      <Anchor component={Link} href="/activations">
        ← Activations
      </Anchor>
      <Title order={1}>New activation</Title>
      <Select
        label="Audience"
        placeholder="Pick an audience"
        required
        searchable
        data={audiences}
        value={audienceId}
        onChange={setAudienceId}
      />
      <Radio.Group
        label="Destination"
        value={choice}
        onChange={(v) => setChoice(v === 'existing' ? 'existing' : 'new')}
      >
        <Group mt="xs">
          <Radio value="new" label="A new destination" />
          <Radio value="existing" label="An existing destination" disabled={destinations.data.data.length === 0} />
        </Group>
      </Radio.Group>
      {choice === 'existing' ? (
        <Select
          label="Existing destination"
          placeholder="Pick a destination"
          required
          searchable
          data={destinations.data.data.map((d) => ({ value: d.id, label: `${d.name} (${d.connector})` }))}
          value={destinationId}
          onChange={setDestinationId}
        />
      ) : (
        <>
          <Select
            label="Connector"
            placeholder="Pick a destination connector"
            required
            data={destinationConnectors.map((c) => ({ value: c.id, label: c.displayName }))}
            value={connectorId}
            onChange={(id) => {
              setConnectorId(id);
              setConfig({});
              setIdentifiers([]);
            }}
          />
          {entry?.description && <Text size="sm">{entry.description}</Text>}
          <TextInput label="Destination name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        </>
      )}
      <Select
        label="Mode"
        allowDeselect={false}
        value={mode}
        onChange={(m) => setMode(m === 'mirror' ? 'mirror' : 'upsert')}
        data={[
          { value: 'upsert', label: 'upsert: add and remove as members enter and leave' },
          { value: 'mirror', label: "mirror: replace the platform's list, then follow the changes" },
        ]}
      />
      <MultiSelect
        label="Identifiers sent"
        description="Leave empty to send every identifier the connector accepts"
        placeholder={identifiers.length === 0 ? 'all accepted identifiers' : undefined}
        data={entry?.accepts ?? []}
        value={identifiers}
        onChange={setIdentifiers}
      />
      <TextInput
        label="Platform audience id"
        description="Leave empty to let the connector create or find it (required by TikTok)"
        value={externalId}
        onChange={(e) => setExternalId(e.currentTarget.value)}
      />
      <ScheduleInput value={schedule} onChange={setSchedule} noneLabel="Real time" />
      {choice === 'new' && entry ? (
        <>
          <Title order={2} size="h4">
            {entry.displayName} configuration
          </Title>
          <ConfigForm key={entry.id} entry={entry} config={config} onChange={setConfig} onSubmit={save.mutate}>
            {submitArea}
          </ConfigForm>
        </>
      ) : (
        <form onSubmit={submitExisting} aria-label="Create the activation">
          {submitArea}
        </form>
      )}
    </Stack>
  );
}

function ConfigForm({
  entry,
  config,
  onChange,
  onSubmit,
  children,
}: {
  entry: CatalogEntry;
  config: Record<string, unknown>;
  onChange: (config: Record<string, unknown>) => void;
  onSubmit: (config: Record<string, unknown>) => void;
  children: ReactNode;
}) {
  const schema = useMemo(() => formSchema(entry.configSchema), [entry]);
  const uiSchema = useMemo(() => formUiSchema(schema, undefined), [schema]);
  return (
    <div className="plexus-form">
      <Form
        schema={schema}
        uiSchema={uiSchema}
        formData={config}
        validator={cspSafeValidator}
        showErrorList="top"
        noHtml5Validate
        onChange={(e) => onChange((e.formData ?? {}) as Record<string, unknown>)}
        onSubmit={(e) => onSubmit((e.formData ?? {}) as Record<string, unknown>)}
      >
        {children}
      </Form>
    </div>
  );
}
