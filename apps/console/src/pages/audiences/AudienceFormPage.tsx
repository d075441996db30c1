import { useState, type FormEvent } from 'react';
import { Anchor, Button, Group, Loader, Stack, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import type { Answer } from '../../api/views.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { RuleEditor } from './RuleEditor.js';
import { isObject, NEW_CONDITION, type RuleNode } from './rule.js';
import { useAudience } from './queries.js';

type Audience = Answer<'/v1/audiences/{id}', 'get'>;

/** Create an audience, or change one (`/audiences/:id/edit`): name, description and the rule. */
export default function AudienceFormPage() {
  const { id } = useParams<{ id?: string }>();
  const existing = useAudience(id);
  if (id && existing.error) return <ErrorAlert error={existing.error} />;
  if (id && !existing.data) return <Loader role="status" aria-label="Loading audience" />;
  return <AudienceForm existing={existing.data} />;
}

function AudienceForm({ existing }: { existing?: Audience }) {
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const canWrite = useCan('audiences:write');
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [rule, setRule] = useState<RuleNode>(() =>
    isObject(existing?.rule) ? existing.rule : { all: [NEW_CONDITION.trait()] },
  );

  const save = useMutation({
    mutationFn: () => {
      const body = { name, description, rule };
      return existing
        ? unwrap(api.PATCH('/v1/audiences/{id}', { params: { path: { id: existing.id } }, body }))
        : unwrap(api.POST('/v1/audiences', { body }));
    },
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ['audiences'] });
      navigate(`/audiences/${saved.id}`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  const back = existing ? `/audiences/${existing.id}` : '/audiences';
  return (
    <Stack>
      <Anchor component={Link} href={back}>
        ← {existing ? existing.name : 'Audiences'}
      </Anchor>
      <Title order={1}>{existing ? `Edit ${existing.name}` : 'New audience'}</Title>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} maw={480} />
          <Textarea
            label="Description"
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            autosize
            minRows={1}
            maw={640}
          />
          <RuleEditor rule={rule} onChange={setRule} exclude={existing?.id} />
          <ErrorAlert error={save.error} title="The audience was not saved" />
          {canWrite && (
            <Group>
              <Button type="submit" loading={save.isPending}>
                {existing ? 'Save and re-evaluate' : 'Create audience'}
              </Button>
            </Group>
          )}
        </Stack>
      </form>
    </Stack>
  );
}
