import { useEffect, useState } from 'react';
import { Badge, Button, Card, Group, JsonInput, Menu, Select, Stack, Text, TextInput } from '@mantine/core';
import {
  COUNT_OPS,
  IDENTIFIER_TYPES,
  isObject,
  isSimpleEvent,
  NEW_CONDITION,
  nodeKind,
  parseValue,
  text,
  TRAIT_OPS,
  valueText,
  type ConditionKind,
  type Json,
  type RuleNode,
} from './rule.js';

export interface AudienceOption {
  value: string;
  label: string;
}

interface NodeProps {
  node: RuleNode;
  path: string;
  onChange: (next: RuleNode) => void;
  onRemove?: () => void;
  audiences: AudienceOption[];
}

const ADDABLE: Array<{ kind: ConditionKind | 'group'; label: string }> = [
  { kind: 'trait', label: 'Trait' },
  { kind: 'event', label: 'Event' },
  { kind: 'identifier', label: 'Identifier present' },
  { kind: 'anonymous', label: 'Anonymous or identified' },
  { kind: 'consent', label: 'Consent' },
  { kind: 'audience', label: 'In another audience' },
  { kind: 'computed', label: 'Computed trait' },
  { kind: 'group', label: 'Group (any of)' },
];

/** The rule as nested cards: groups (all / any / not) hold conditions; each edit yields the new JSON tree. */
export function RuleBuilder({
  rule,
  onChange,
  audiences,
}: {
  rule: RuleNode;
  onChange: (next: RuleNode) => void;
  audiences: AudienceOption[];
}) {
  return <NodeEditor node={rule} path="rule" onChange={onChange} audiences={audiences} />;
}

function NodeEditor(props: NodeProps) {
  const kind = nodeKind(props.node);
  if (kind === 'all' || kind === 'any') return <GroupEditor {...props} kind={kind} />;
  if (kind === 'not') return <NotEditor {...props} />;
  if (kind === undefined || (kind === 'event' && !isSimpleEvent(props.node))) return <JsonLeaf {...props} />;
  return <ConditionEditor {...props} kind={kind} />;
}

function Toolbar({ title, path, onRemove }: { title: string; path: string; onRemove?: () => void }) {
  return (
    <Group justify="space-between" gap="xs" mb={6}>
      <Badge variant="light" color="gray">
        {title}
      </Badge>
      {onRemove && (
        <Button size="compact-xs" variant="subtle" color="red" onClick={onRemove} aria-label={`Remove ${path}`}>
          Remove
        </Button>
      )}
    </Group>
  );
}

function GroupEditor({ node, path, onChange, onRemove, audiences, kind }: NodeProps & { kind: 'all' | 'any' }) {
  const children = (node[kind] as Json[]).filter(isObject);
  const setChildren = (next: RuleNode[], as: 'all' | 'any' = kind) => onChange({ [as]: next });
  return (
    <Card withBorder padding="sm" data-path={path}>
      <Toolbar title="Group" path={path} onRemove={onRemove} />
      <Select
        label="Profiles matching"
        data={[
          { value: 'all', label: 'all of these conditions' },
          { value: 'any', label: 'any of these conditions' },
        ]}
        value={kind}
        allowDeselect={false}
        onChange={(v) => setChildren(children, v === 'any' ? 'any' : 'all')}
        maw={320}
        mb="xs"
      />
      <Stack gap="xs">
        {children.map((child, i) => (
          <div key={i}>
            <NodeEditor
              node={child}
              path={`${path}.${kind}[${i}]`}
              audiences={audiences}
              onChange={(next) => setChildren(children.map((c, j) => (j === i ? next : c)))}
              // A group needs at least one condition: the last one cannot be removed, only replaced.
              onRemove={children.length > 1 ? () => setChildren(children.filter((_, j) => j !== i)) : undefined}
            />
            {nodeKind(child) !== 'not' && (
              <Button
                size="compact-xs"
                variant="subtle"
                onClick={() => setChildren(children.map((c, j) => (j === i ? { not: c } : c)))}
                aria-label={`Negate ${path}.${kind}[${i}]`}
              >
                Negate
              </Button>
            )}
          </div>
        ))}
      </Stack>
      <Menu position="bottom-start">
        <Menu.Target>
          <Button size="xs" variant="light" mt="xs" aria-label={`Add condition to ${path}`}>
            Add condition
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {ADDABLE.map((a) => (
            <Menu.Item key={a.kind} onClick={() => setChildren([...children, NEW_CONDITION[a.kind]()])}>
              {a.label}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
    </Card>
  );
}

function NotEditor({ node, path, onChange, onRemove, audiences }: NodeProps) {
  const inner = node.not as RuleNode;
  return (
    <Card withBorder padding="sm" data-path={path} bg="gray.0">
      <Toolbar title="Not" path={path} onRemove={onRemove} />
      <NodeEditor
        node={inner}
        path={`${path}.not`}
        audiences={audiences}
        onChange={(next) => onChange({ not: next })}
      />
      <Button size="compact-xs" variant="subtle" mt={4} onClick={() => onChange(inner)}>
        Remove the negation
      </Button>
    </Card>
  );
}

/** A value field kept as typed text, so "1." or "a, b" survive while the JSON holds the parsed value. */
function ValueInput({
  op,
  value,
  onChange,
}: {
  op: string;
  value: Json | undefined;
  onChange: (v: Json | undefined) => void;
}) {
  const [text, setText] = useState(valueText(value));
  const external = JSON.stringify(value ?? null);
  useEffect(() => {
    if (JSON.stringify(parseValue(op, text) ?? null) !== external) setText(valueText(value));
    // Only a change from outside (the JSON view) resets the text.
  }, [external]);
  if (op === 'exists') return null;
  const hint =
    op === 'in'
      ? 'comma-separated'
      : op === 'between'
        ? 'low, high'
        : op === 'before' || op === 'after'
          ? 'ISO date or -30d'
          : undefined;
  return (
    <TextInput
      label="Value"
      description={hint}
      value={text}
      onChange={(e) => {
        setText(e.currentTarget.value);
        onChange(parseValue(op, e.currentTarget.value));
      }}
      w={200}
    />
  );
}

function withValue(node: RuleNode, op: string, value: Json | undefined): RuleNode {
  const { value: _old, ...rest } = node;
  return value === undefined ? { ...rest, op } : { ...rest, op, value };
}

const KIND_TITLE: Record<ConditionKind, string> = {
  trait: 'Trait',
  identifier: 'Identifier',
  anonymous: 'Anonymous',
  consent: 'Consent',
  event: 'Event',
  audience: 'Audience',
  computed: 'Computed trait',
};

function ConditionEditor({ node, path, onChange, onRemove, audiences, kind }: NodeProps & { kind: ConditionKind }) {
  const set = (patch: RuleNode) => onChange({ ...node, ...patch });
  const op = typeof node.op === 'string' ? node.op : 'eq';
  let fields;
  switch (kind) {
    case 'trait':
    case 'computed':
      fields = (
        <>
          <TextInput
            label={kind === 'trait' ? 'Trait' : 'Computed trait'}
            value={text(node[kind])}
            onChange={(e) => set({ [kind]: e.currentTarget.value })}
            w={180}
          />
          <Select
            label="Operator"
            data={kind === 'trait' ? TRAIT_OPS : TRAIT_OPS.filter((o) => o !== 'before' && o !== 'after')}
            value={op}
            allowDeselect={false}
            onChange={(v) => onChange(withValue(node, v ?? 'eq', v === 'exists' ? undefined : node.value))}
            w={130}
          />
          <ValueInput op={op} value={node.value} onChange={(v) => onChange(withValue(node, op, v))} />
        </>
      );
      break;
    case 'identifier':
      fields = (
        <Select
          label="Has an identifier of type"
          data={IDENTIFIER_TYPES}
          value={text(node.identifier)}
          allowDeselect={false}
          onChange={(v) => set({ identifier: v ?? 'email' })}
          w={220}
        />
      );
      break;
    case 'anonymous':
      fields = (
        <Select
          label="Profile is"
          data={[
            { value: 'true', label: 'anonymous (cookies and devices only)' },
            { value: 'false', label: 'identified (email, phone or user id)' },
          ]}
          value={String(node.anonymous === true)}
          allowDeselect={false}
          onChange={(v) => set({ anonymous: v === 'true' })}
          w={320}
        />
      );
      break;
    case 'consent':
      fields = (
        <>
          <TextInput
            label="Purpose"
            value={text(node.consent)}
            onChange={(e) => set({ consent: e.currentTarget.value })}
            w={160}
          />
          <Select
            label="Consent"
            data={[
              { value: 'true', label: 'granted' },
              { value: 'false', label: 'not granted' },
            ]}
            value={String(node.granted !== false)}
            allowDeselect={false}
            onChange={(v) => {
              const { granted: _g, ...rest } = node;
              onChange(v === 'false' ? { ...rest, granted: false } : rest);
            }}
            w={160}
          />
        </>
      );
      break;
    case 'audience':
      fields = (
        <Select
          label="Member of"
          data={audiences}
          value={text(node.audience) || null}
          placeholder="choose an audience"
          searchable
          onChange={(v) => set({ audience: v ?? '' })}
          w={280}
        />
      );
      break;
    case 'event': {
      const count = isObject(node.count) ? node.count : undefined;
      fields = (
        <>
          <TextInput
            label="Event"
            value={text(node.event)}
            onChange={(e) => set({ event: e.currentTarget.value })}
            w={200}
          />
          <TextInput
            label="Within"
            description="e.g. 90d or 12h; empty = ever"
            value={typeof node.within === 'string' ? node.within : ''}
            onChange={(e) => {
              const { within: _w, ...rest } = node;
              onChange(e.currentTarget.value ? { ...rest, within: e.currentTarget.value } : rest);
            }}
            w={150}
          />
          <Select
            label="How many"
            data={[
              { value: 'any', label: 'at least one' },
              ...COUNT_OPS.map((o) => ({ value: o, label: `count ${o}` })),
            ]}
            value={count ? text(count.op) : 'any'}
            allowDeselect={false}
            onChange={(v) => {
              const { count: _c, ...rest } = node;
              onChange(v && v !== 'any' ? { ...rest, count: { op: v, value: count?.value ?? 1 } } : rest);
            }}
            w={150}
          />
          {count && (
            <TextInput
              label="Count"
              inputMode="numeric"
              value={text(count.value)}
              onChange={(e) => set({ count: { op: count.op, value: Number(e.currentTarget.value) || 0 } })}
              w={90}
            />
          )}
        </>
      );
      break;
    }
  }
  return (
    <Card withBorder padding="sm" data-path={path}>
      <Toolbar title={KIND_TITLE[kind]} path={path} onRemove={onRemove} />
      <Group align="flex-end" gap="sm" wrap="wrap">
        {fields}
      </Group>
    </Card>
  );
}

/** A node the form does not cover (sums, property filters, first/last): edited as JSON in place. */
function JsonLeaf({ node, path, onChange, onRemove }: NodeProps) {
  const [text, setText] = useState(JSON.stringify(node, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <Card withBorder padding="sm" data-path={path}>
      <Toolbar title="Condition (JSON)" path={path} onRemove={onRemove} />
      <JsonInput
        label="Condition"
        autosize
        minRows={2}
        value={text}
        onChange={setText}
        onBlur={() => {
          try {
            const parsed: unknown = JSON.parse(text);
            if (!isObject(parsed)) throw new Error('a condition is a JSON object');
            setError(null);
            onChange(parsed);
          } catch (e) {
            setError((e as Error).message);
          }
        }}
        error={error}
      />
      <Text size="xs" mt={4}>
        Edited as JSON: the form covers traits, identifiers, consent, audiences and event counts.
      </Text>
    </Card>
  );
}
