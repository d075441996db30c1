import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface SizePoint {
  at: string;
  size: number;
  entered: number;
  exited: number;
  kind: string;
}

/** The audience's size after each evaluation (loaded with this chart only: recharts stays out of first load). */
export default function SizeChart({ points }: { points: SizePoint[] }) {
  const data = points.map((p) => ({ ...p, time: new Date(p.at).toLocaleString() }));
  const last = points[points.length - 1];
  return (
    <div
      role="img"
      aria-label={`Size over time: ${points.length} evaluations${last ? `, now ${last.size}` : ''}`}
      data-testid="size-chart"
    >
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="time" minTickGap={40} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Line type="stepAfter" dataKey="size" stroke="#364fc7" dot isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
