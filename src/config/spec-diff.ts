// The difference between two parsed cluster specs, field by field: what `cluster apply --dry-run` shows and what an
// applied spec records as changed. Both specs are parsed (defaults filled in, durations in ms), so a field written
// differently but meaning the same (2m and 120s) is no change. Plain code without Node's modules: the autoscaler
// workflow uses it too.

export interface SpecChange {
  /** The field's path, dotted; list items by index (metrics.0.target.value). */
  path: string;
  /** Absent when the field is new. */
  from?: unknown;
  /** Absent when the field was removed. */
  to?: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf that differs, in the order of the specs' own keys. */
export function specDiff(from: unknown, to: unknown, prefix = ''): SpecChange[] {
  if (from === to) return [];
  const bothRecords = isRecord(from) && isRecord(to);
  // Lists of the same length are compared item by item; a list that grew or shrank is one change.
  const bothLists = Array.isArray(from) && Array.isArray(to) && from.length === to.length;
  if (!bothRecords && !bothLists) return [{ path: prefix || '(the whole spec)', ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) }];
  const keys = bothLists ? (from as unknown[]).map((_, i) => String(i)) : [...new Set([...Object.keys(from as object), ...Object.keys(to as object)])];
  const at = (v: unknown, k: string) => (v as Record<string, unknown>)[k];
  // Records and lists of the same length recurse; leaves that are not === differ.
  return keys.flatMap((k) => specDiff(at(from, k), at(to, k), prefix ? `${prefix}.${k}` : k));
}

/** The top-level sections that differ (the decision log's "changed: …"). */
export function changedSections(from: object, to: object): string[] {
  return [...new Set(specDiff(from, to).map((c) => c.path.split('.')[0]!))];
}
