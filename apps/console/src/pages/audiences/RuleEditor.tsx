import { useEffect, useState } from 'react';
import { Alert, Button, Group, JsonInput, List, Loader, Paper, Tabs, Text } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { count } from '../../components/format.js';
import { RuleBuilder } from './RuleBuilder.js';
import { isObject, NEW_CONDITION, nodeKind, type RuleNode } from './rule.js';
import { useAudienceOptions } from './queries.js';

const pretty = (rule: RuleNode) => JSON.stringify(rule, null, 2);

/**
 * The rule two ways — the visual builder and its JSON — over one tree, so an edit in either shows in the other,
 * with the size the API previews for it while editing (debounced, nothing saved).
 */
export function RuleEditor({
  rule,
  onChange,
  exclude,
}: {
  rule: RuleNode;
  onChange: (next: RuleNode) => void;
  /** The audience being edited: it cannot use itself. */
  exclude?: string;
}) {
  const audiences = useAudienceOptions(exclude);
  const [text, setText] = useState(() => pretty(rule));
  const [jsonError, setJsonError] = useState<string | null>(null);
  useEffect(() => {
    // A change made in the builder rewrites the JSON; one made in the JSON view is already there.
    let current: unknown;
    try {
      current = JSON.parse(text);
    } catch {
      current = undefined;
    }
    if (JSON.stringify(current) !== JSON.stringify(rule)) {
      setText(pretty(rule));
      setJsonError(null);
    }
  }, [rule]);

  const [debounced] = useDebouncedValue(rule, 400);
  const preview = useQuery({
    queryKey: ['audiences', 'preview', JSON.stringify(debounced)],
    queryFn: () => unwrap(api.POST('/v1/audiences/preview', { body: { rule: debounced, sample: 5 } })),
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });

  function editJson(value: string) {
    setText(value);
    try {
      const parsed: unknown = JSON.parse(value);
      if (!isObject(parsed)) throw new Error('a rule is a JSON object');
      setJsonError(null);
      onChange(parsed);
    } catch (e) {
      setJsonError((e as Error).message);
    }
  }

  const root = nodeKind(rule);
  return (
    <>
      <Tabs defaultValue="builder" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="builder">Builder</Tabs.Tab>
          <Tabs.Tab value="json">JSON</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="builder" pt="sm">
          <RuleBuilder rule={rule} onChange={onChange} audiences={audiences} />
          {root !== 'all' && root !== 'any' && (
            <Button size="xs" variant="light" mt="xs" onClick={() => onChange({ all: [rule, NEW_CONDITION.trait()] })}>
              Combine with another condition
            </Button>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="json" pt="sm">
          <JsonInput
            label="Rule (JSON)"
            description="The rule language of docs/AUDIENCES.md; valid JSON updates the builder as you type."
            autosize
            minRows={8}
            maxRows={30}
            value={text}
            onChange={editJson}
            error={jsonError}
          />
        </Tabs.Panel>
      </Tabs>
      <Paper withBorder p="sm" aria-live="polite" data-testid="preview">
        <Group gap="xs">
          <Text fw={600}>Size preview:</Text>
          {preview.data ? (
            <Text data-testid="preview-size">
              {count(preview.data.size)} {preview.data.size === 1 ? 'profile matches' : 'profiles match'}
            </Text>
          ) : (
            !preview.error && <Loader size="xs" role="status" aria-label="Previewing" />
          )}
          {preview.isFetching && preview.data && <Loader size="xs" role="status" aria-label="Previewing" />}
        </Group>
        {preview.data && preview.data.warnings.length > 0 && (
          <Alert color="yellow" title="Warnings" mt="xs">
            <List size="sm">
              {preview.data.warnings.map((w) => (
                <List.Item key={w}>{w}</List.Item>
              ))}
            </List>
          </Alert>
        )}
        <ErrorAlert error={preview.error} title="This rule is not valid" />
      </Paper>
    </>
  );
}
