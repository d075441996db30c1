import { Card, Title } from '@mantine/core';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SourceHealth } from './OverviewPage.js';

/** Records read per day, summed over the runs each source finished that day. */
export function recordsPerDay(sources: SourceHealth[]): Array<{ day: string; records: number }> {
  const byDay = new Map<string, number>();
  for (const { runs } of sources) {
    for (const run of runs) {
      const at = run.finishedAt ?? run.startedAt;
      if (!at) continue;
      const day = at.slice(0, 10);
      byDay.set(day, (byDay.get(day) ?? 0) + run.stats.read);
    }
  }
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, records]) => ({ day, records }));
}

export default function Charts({
  sources,
  queues,
}: {
  sources: SourceHealth[];
  queues: Array<{ name: string; counts: Record<string, number> }>;
}) {
  const days = recordsPerDay(sources);
  const depths = queues.map((q) => ({
    queue: q.name,
    waiting: (q.counts.waiting ?? 0) + (q.counts.prioritized ?? 0) + (q.counts.delayed ?? 0),
    active: q.counts.active ?? 0,
    failed: q.counts.failed ?? 0,
  }));
  return (
    <>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Records in per day
        </Title>
        <div
          role="img"
          aria-label={`Records in per day: ${days.map((d) => `${d.day} ${d.records}`).join(', ') || 'none yet'}`}
        >
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={days}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="records" fill="#364fc7" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Queue depths
        </Title>
        <div
          role="img"
          aria-label={`Queue depths: ${depths.map((d) => `${d.queue} ${d.waiting} waiting, ${d.active} active, ${d.failed} failed`).join('; ')}`}
        >
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={depths}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="queue" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="waiting" stackId="q" fill="#364fc7" isAnimationActive={false} />
              <Bar dataKey="active" stackId="q" fill="#2b8a3e" isAnimationActive={false} />
              <Bar dataKey="failed" stackId="q" fill="#c92a2a" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
    </>
  );
}
