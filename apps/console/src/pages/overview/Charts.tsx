import { Card, Title } from '@mantine/core';
import type { ReactElement } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Answer } from '../../api/views.js';

export type RecordsStats = Answer<'/v1/stats/records', 'get'>['data'];
export type EventsStats = Answer<'/v1/stats/events', 'get'>['data'];
export type ProfilesStats = Answer<'/v1/stats/profiles', 'get'>;
export type QueueDepths = Answer<'/v1/queues', 'get'>['data'];

const COLORS = ['#364fc7', '#2b8a3e', '#c92a2a', '#e67700', '#862e9c', '#0b7285', '#5c940d', '#a61e4d'];
const DAY_MS = 86_400_000;

/** Every UTC day of the window, oldest first, so days without data show as zero rather than vanish. */
export function windowDays(days: number, now = Date.now()): string[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/**
 * Records per day with one key per source (stacked bars). Keys are `s0`, `s1`…: a source's name may hold a dot,
 * which the chart library would read as a path.
 */
export function recordsByDay(rows: RecordsStats, days: string[], sourceName: (id: string) => string) {
  const sources = [...new Set(rows.map((r) => sourceName(r.sourceId)))].sort();
  const keyOf = new Map(sources.map((s, i) => [s, `s${i}`]));
  const data = days.map((day) => {
    const point: Record<string, string | number> = { day };
    for (const key of keyOf.values()) point[key] = 0;
    for (const r of rows) {
      const key = keyOf.get(sourceName(r.sourceId))!;
      if (r.day === day) point[key] = (point[key] as number) + r.records;
    }
    return point;
  });
  return { sources, data };
}

/**
 * Profiles live at the end of each day, worked back from the count now: the day before had this day's
 * creations fewer and its merges more.
 */
export function profilesByDay(stats: ProfilesStats, days: string[]) {
  const byDay = new Map(stats.data.map((d) => [d.day, d]));
  let live = stats.live;
  const out = [];
  for (const day of [...days].reverse()) {
    const d = byDay.get(day);
    out.push({ day, created: d?.created ?? 0, merged: d?.merged ?? 0, live });
    live = live - (d?.created ?? 0) + (d?.merged ?? 0);
  }
  return out.reverse();
}

/** The last `minutes` minutes, zeros included. */
export function eventsByMinute(rows: EventsStats, minutes: number, now = Date.now()) {
  const counts = new Map(rows.map((r) => [r.minute, r.events]));
  const last = Math.floor(now / 60_000) * 60_000;
  return Array.from({ length: minutes }, (_, i) => {
    const at = new Date(last - (minutes - 1 - i) * 60_000).toISOString().slice(0, 16) + 'Z';
    return { minute: at.slice(11, 16), events: counts.get(at) ?? 0 };
  });
}

function ChartCard({ title, summary, children }: { title: string; summary: string; children: ReactElement }) {
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        {title}
      </Title>
      <div role="img" aria-label={`${title}: ${summary}`}>
        <ResponsiveContainer width="100%" height={220}>
          {children}
        </ResponsiveContainer>
      </div>
    </Card>
  );
}

export default function Charts({
  records,
  events,
  profiles,
  queues,
  sourceName,
  days,
  minutes,
}: {
  records: RecordsStats;
  events: EventsStats;
  profiles: ProfilesStats | undefined;
  queues: QueueDepths;
  sourceName: (id: string) => string;
  days: number;
  minutes: number;
}) {
  const dayList = windowDays(days);
  const perDay = recordsByDay(records, dayList, sourceName);
  const totalRecords = records.reduce((sum, r) => sum + r.records, 0);
  const perMinute = eventsByMinute(events, minutes);
  const totalEvents = events.reduce((sum, r) => sum + r.events, 0);
  const profileDays = profiles ? profilesByDay(profiles, dayList) : [];
  const depths = queues.map((q) => ({
    queue: q.name,
    waiting: (q.counts.waiting ?? 0) + (q.counts.prioritized ?? 0) + (q.counts.delayed ?? 0),
    active: q.counts.active ?? 0,
    failed: q.counts.failed ?? 0,
  }));
  return (
    <>
      <ChartCard
        title="Records in per day"
        summary={`${totalRecords} records in ${days} days${perDay.sources.length ? ` from ${perDay.sources.join(', ')}` : ''}`}
      >
        <BarChart data={perDay.data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" minTickGap={24} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          {perDay.sources.map((s, i) => (
            <Bar
              key={s}
              dataKey={`s${i}`}
              name={s}
              stackId="r"
              fill={COLORS[i % COLORS.length]}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ChartCard>
      <ChartCard title="Events per minute" summary={`${totalEvents} events in the last ${minutes} minutes`}>
        <BarChart data={perMinute}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="minute" minTickGap={24} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Bar dataKey="events" fill="#364fc7" isAnimationActive={false} />
        </BarChart>
      </ChartCard>
      <ChartCard
        title="Profiles and merges"
        summary={
          profiles
            ? `${profiles.live} profiles now; ${profiles.data.reduce((s, d) => s + d.created, 0)} created and ${profiles.data.reduce((s, d) => s + d.merged, 0)} merges in ${days} days`
            : 'loading'
        }
      >
        <ComposedChart data={profileDays}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" minTickGap={24} />
          <YAxis yAxisId="count" allowDecimals={false} />
          <YAxis yAxisId="live" orientation="right" allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Bar yAxisId="count" dataKey="created" fill="#2b8a3e" isAnimationActive={false} />
          <Bar yAxisId="count" dataKey="merged" fill="#e67700" isAnimationActive={false} />
          <Line yAxisId="live" dataKey="live" stroke="#364fc7" dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ChartCard>
      <ChartCard
        title="Queue depths"
        summary={depths
          .map((d) => `${d.queue} ${d.waiting} waiting, ${d.active} active, ${d.failed} failed`)
          .join('; ')}
      >
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
      </ChartCard>
    </>
  );
}
