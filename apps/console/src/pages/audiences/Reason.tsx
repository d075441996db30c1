import { Anchor, Code, List, Text } from '@mantine/core';
import { Link } from 'wouter';
import { describeCondition } from './rule.js';

interface ReasonShape {
  matched?: boolean;
  because?: Array<{ path: string; condition: unknown; ok: boolean; value: unknown }>;
  evaluation?: string;
  mergedInto?: string;
  deleted?: boolean;
}

/** Why a profile is in or out: the conditions that decided, each with the data behind it. */
export function Reason({ reason }: { reason: unknown }) {
  const r = (reason ?? {}) as ReasonShape;
  if (r.mergedInto)
    return (
      <Text size="sm">
        merged into{' '}
        <Anchor component={Link} href={`/profiles/${r.mergedInto}`} ff="monospace">
          {r.mergedInto.slice(0, 8)}
        </Anchor>
      </Text>
    );
  if (r.deleted) return <Text size="sm">the profile was deleted</Text>;
  return (
    <>
      <List size="sm" spacing={2}>
        {(r.because ?? []).map((b) => (
          <List.Item key={b.path}>
            {b.ok ? '✓' : '✗'} {describeCondition(b.condition)}
            {b.value !== undefined && b.value !== null && (
              <>
                {' '}
                — found <Code>{JSON.stringify(b.value)}</Code>
              </>
            )}
          </List.Item>
        ))}
      </List>
      {r.evaluation && <Text size="xs">{r.evaluation} evaluation</Text>}
    </>
  );
}
