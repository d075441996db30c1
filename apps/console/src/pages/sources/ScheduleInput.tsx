import { Group, NumberInput, Select, TextInput } from '@mantine/core';
import type { Schedule } from '../../api/views.js';

type Kind = 'none' | 'cron' | 'every';

export function scheduleKind(s: Schedule | null): Kind {
  return !s ? 'none' : 'cron' in s ? 'cron' : 'every';
}

/** Schedule of a source: none, a cron expression (with an optional time zone), or every N seconds. */
export function ScheduleInput({ value, onChange }: { value: Schedule | null; onChange: (s: Schedule | null) => void }) {
  const kind = scheduleKind(value);
  return (
    <Group align="flex-end" wrap="wrap">
      <Select
        label="Schedule"
        value={kind}
        allowDeselect={false}
        data={[
          { value: 'none', label: 'Manual only' },
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
