/**
 * What a decoder did not understand in one reading (issue 16): an unknown state or enum
 * value, an unknown unit, an unparseable time, a scale that makes no sense. The field is
 * left out (never stored as if it were a value), the rest of the reading still goes out,
 * and each problem is counted by reason (CollectResult.dropped, `wattline devices`) and
 * logged with its detail by the session.
 */
export interface FieldProblem {
  /** Short and stable: the CollectResult.dropped reason (`unknown state`, `bad scale`). */
  reason: string;
  /** One line with the field and the raw value: what the log and `decode` show. */
  detail: string;
  /** Where it was, when the decoder knows (1-based line of a telegram). */
  line?: number;
}

/** Problems counted by reason, in first-seen order, for CollectResult.dropped. */
export function tally(problems: readonly FieldProblem[]): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => ({ reason, count }));
}
