// The spec's messages where zod's own say less than they could: a missing field is "required", and an unknown key
// is answered with the nearest known one ("did you mean"). Used as the parse's error map, so every place that
// parses a spec says the same.
import type { z } from 'zod';

/**
 * Edits from a to b (insert, delete, substitute, or swap two neighbours: "mni" is one slip from "min"), the
 * optimal-string-alignment distance; small strings only, so the plain table is fine.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** The known key nearest to `key`, if it is near enough to be a slip (a third of its letters, case aside). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { k, d };
  }
  return best && best.d <= Math.max(1, Math.floor(key.length / 3)) ? best.k : undefined;
}

const quote = (k: string) => JSON.stringify(k);

/** The error map for parsing specs; undefined keeps zod's message. */
export const specErrorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'invalid_type' && iss.input === undefined) return 'required';
  if (iss.code === 'unrecognized_keys') {
    // The object schema that refused them knows its own keys.
    const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
    const known = shape ? Object.keys(shape) : [];
    return iss.keys
      .map((k) => {
        const near = nearestKey(k, known);
        return `unknown key ${quote(k)}${near ? ` (did you mean ${quote(near)}?)` : ''}`;
      })
      .join('; ');
  }
  if (iss.code === 'invalid_union') {
    // A value of one of the union's types (a string where a number or a string may go) is told that type's complaint,
    // not "Invalid input".
    const branches = (iss as { errors?: { code: string; message: string }[][] }).errors ?? [];
    const fits = branches.filter((b) => b.length > 0 && b.every((i) => i.code !== 'invalid_type'));
    if (fits.length === 1) return fits[0]!.map((i) => i.message).join('; ');
  }
  return undefined;
};
