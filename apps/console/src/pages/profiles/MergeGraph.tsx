import type { HistoryEntry } from '../../api/views.js';

/**
 * The merge history as a graph: each profile merged in is a node with an arrow into the profile that absorbed
 * it, labelled with the identifiers that caused the merge. Undone merges are drawn dashed.
 */
export function MergeGraph({ profileId, history }: { profileId: string; history: HistoryEntry[] }) {
  const merges = history.filter((h) => h.kind === 'merge' && h.loser && h.winner);
  if (merges.length === 0) return <p>No merges: this profile was created once and never merged.</p>;
  const rowHeight = 64;
  const width = 640;
  const height = Math.max(merges.length * rowHeight + 24, 100);
  const target = { x: width - 130, y: height / 2 };
  const short = (id: string) => id.slice(0, 8);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      style={{ maxWidth: width }}
      role="img"
      aria-label={`Merge graph: ${merges.length} profile(s) merged into ${short(profileId)}`}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#495057" />
        </marker>
      </defs>
      {merges.map((m, i) => {
        const y = 24 + i * rowHeight + 12;
        const cause = (m.causedBy ?? []).map((c) => `${c.type}:${c.value}`).join(', ');
        const undone = Boolean(m.undoneAt);
        return (
          <g key={m.mergeId ?? i}>
            <title>{`merge #${m.mergeId ?? '?'}: ${m.loser ?? ''} → ${m.winner ?? ''} (${cause})${undone ? ' — undone' : ''}`}</title>
            <rect x={8} y={y - 16} width={120} height={32} rx={6} fill="#f1f3f5" stroke="#495057" />
            <text x={68} y={y + 5} textAnchor="middle" fontSize={13} fontFamily="monospace" fill="#212529">
              {short(m.loser ?? '')}
            </text>
            <line
              x1={128}
              y1={y}
              x2={target.x}
              y2={target.y}
              stroke="#495057"
              strokeDasharray={undone ? '6 4' : undefined}
              markerEnd="url(#arrow)"
            />
            <text x={140} y={y - 6} fontSize={11} fill="#343a40">
              {`#${m.mergeId ?? '?'} ${cause.length > 48 ? `${cause.slice(0, 47)}…` : cause}${undone ? ' (undone)' : ''}`}
            </text>
          </g>
        );
      })}
      <rect x={target.x} y={target.y - 20} width={122} height={40} rx={6} fill="#dbe4ff" stroke="#364fc7" />
      <text x={target.x + 61} y={target.y + 5} textAnchor="middle" fontSize={13} fontFamily="monospace" fill="#212529">
        {short(profileId)}
      </text>
    </svg>
  );
}
