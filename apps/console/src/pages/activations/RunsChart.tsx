import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ActivationRun } from '../../api/views.js';

/** Outcomes of each delivery run, oldest first (loaded with this chart only: recharts stays out of first load). */
export default function RunsChart({ runs }: { runs: ActivationRun[] }) {
  const data = [...runs].reverse().map((r) => ({
    time: new Date(r.startedAt).toLocaleString(),
    accepted: r.accepted,
    invalid: r.invalid,
    failed: r.failed,
    'not sendable': r.notSendable,
  }));
  const sum = (k: 'accepted' | 'invalid' | 'failed' | 'notSendable') => runs.reduce((n, r) => n + r[k], 0);
  return (
    <div
      role="img"
      aria-label={
        `Delivery runs: ${runs.length} runs; ${sum('accepted')} accepted, ${sum('invalid')} invalid, ` +
        `${sum('failed')} failed, ${sum('notSendable')} not sendable`
      }
      data-testid="runs-chart"
    >
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="time" minTickGap={40} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Bar dataKey="accepted" stackId="outcome" fill="#2b8a3e" isAnimationActive={false} />
          <Bar dataKey="invalid" stackId="outcome" fill="#e67700" isAnimationActive={false} />
          <Bar dataKey="failed" stackId="outcome" fill="#c92a2a" isAnimationActive={false} />
          <Bar dataKey="not sendable" stackId="outcome" fill="#868e96" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
