import { Group, NumberInput, Select, TextInput } from '@mantine/core';
import type { Schedule } from '../../api/views.js';

type Kind = 'none' | 'cron' | 'every';

export function scheduleKind(s: Schedule | null): Kind {
  return !s ? 'none' : 'cron' in s ? 'cron' : 'every';
}

/**
 * Schedule of a source or an activation: none, a cron expression (with an optional time zone), or every N seconds.
 * `noneLabel` says what no schedule means (a source runs only when asked; an activation delivers in real time).
 */
export function ScheduleInput({
  value,
  onChange,
  noneLabel = 'Manual only',
}: {
  value: Schedule | null;
  onChange: (s: Schedule | null) => void;
  /** What no schedule means here; `null` when a schedule is required. */
  noneLabel?: string | null;
}) {
  const kind = scheduleKind(value);
  return (
    <Group align="flex-end" wrap="wrap">
      <Select
        label="Schedule"
        value={kind}
        allowDeselect={false}
        data={[
          ...(noneLabel === null ? [] : [{ value: 'none', label: noneLabel }]),
          { value: 'cron', label: 'Cron expression' },
          { value: 'every', label: 'Every N seconds' },
        ]}
        onChange={(k) => onChange(k === 'cron' ? { cron: '0 3 * * *' } : k === 'every' ? { everySeconds: 3600 } : null)}
      />
      {value && 'cron' in value && (
        <>
          <TextInput
            label="Cron"
            value={value.cron}
            onChange={(e) => onChange({ ...value, cron: e.currentTarget.value })}
          />
          <TextInput
            label="Time zone"
            placeholder="UTC"
            value={value.tz ?? ''}
            onChange={(e) => {
              const tz = e.currentTarget.value;
              onChange(tz ? { ...value, tz } : { cron: value.cron });
            }}
          />
        </>
      )}
      {value && 'everySeconds' in value && (
        <NumberInput
          label="Seconds between runs"
          min={1}
          value={value.everySeconds}
          onChange={(n) => onChange({ everySeconds: Number(n) || 1 })}
        />
      )}
    </Group>
  );
}
