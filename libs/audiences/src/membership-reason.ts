import type { LeafNode, RuleNode } from '@plexus/storage';

/** One condition as it stood for a profile: where it is in the rule, what it says, its result and data. */
export interface ConditionResult {
  path: string;
  condition: unknown;
  ok: boolean;
  value: unknown;
}

/**
 * Why a profile is in or out: `because` lists the conditions that decided it — for a match, the ones that
 * hold on the satisfied branches; for a miss, the ones that fail and make the rule fail.
 */
export interface MembershipReason {
  matched: boolean;
  because: ConditionResult[];
  /** What the evaluation was: `full`, `profiles` (real-time), `schedule`, `rule` (the rule changed). */
  evaluation?: string;
  /** Set when the profile left because it was merged into another one. */
  mergedInto?: string;
  /** Set when the profile left because it no longer exists. */
  deleted?: true;
}

/** Walks the rule with each leaf's result and collects the deciding leaves. */
export function explainMembership(
  rule: RuleNode,
  results: Map<LeafNode, { ok: boolean; value: unknown }>,
): Omit<MembershipReason, 'evaluation'> {
  const walk = (node: RuleNode): { ok: boolean; because: LeafNode[] } => {
    switch (node.kind) {
      case 'all':
      case 'any': {
        const children = node.children.map(walk);
        const ok = node.kind === 'all' ? children.every((c) => c.ok) : children.some((c) => c.ok);
        // all: true because of every child, false because of the failing ones; any: the reverse.
        return { ok, because: children.filter((c) => c.ok === ok).flatMap((c) => c.because) };
      }
      case 'not': {
        const child = walk(node.child);
        return { ok: !child.ok, because: child.because };
      }
      case 'trait':
      case 'computed':
      case 'event':
      case 'identifier':
      case 'anonymous':
      case 'consent':
      case 'audience':
        return { ok: results.get(node)?.ok ?? false, because: [node] };
    }
  };
  const { ok, because } = walk(rule);
  return {
    matched: ok,
    because: because.map((leaf) => ({
      path: leaf.path,
      condition: leaf.source,
      ok: results.get(leaf)?.ok ?? false,
      value: results.get(leaf)?.value ?? null,
    })),
  };
}
