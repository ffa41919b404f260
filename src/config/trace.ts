// Demand traces from CSV: a time column and a value column on a regular grid; any malformed row is named.
//
// Time is the first column: ISO timestamps, or numbers in the unit its header names (minute(s) → minutes,
// hour(s) → hours, ms → milliseconds, anything else → seconds, e.g. `timestamp` as Unix seconds).
// The step is the first interval; a row off that grid is an error, and a missing stretch (a gap) too, unless
// gaps are to be held over (the last value repeated), which is then reported, never silent.
import { WrongRequestError } from './wrong-request';

export interface ParsedTrace {
  stepMs: number;
  /** Epoch ms (ISO times) or offset ms of the first sample. */
  startMs: number;
  values: Float64Array;
  column: string;
  /** Gaps held over: the row after each gap and how many steps were filled. */
  filled: { row: number; steps: number }[];
}

/** A malformed trace: one message naming the row and what is wrong. */
export class TraceError extends WrongRequestError {
  override name = 'TraceError';
}

const UNIT_MS: [RegExp, number][] = [
  [/^min(ute)?s?$/i, 60_000],
  [/^h(our)?s?$/i, 3_600_000],
  [/^ms$|millis/i, 1],
];

function timeParser(header: string): (cell: string) => number | undefined {
  const unit = UNIT_MS.find(([re]) => re.test(header.trim()))?.[1] ?? 1000;
  return (cell) => {
    const c = cell.trim();
    if (/^-?\d+(\.\d+)?$/.test(c)) return Number(c) * unit;
    if (/^\d{4}-\d{2}-\d{2}[T ]/.test(c)) {
      const t = Date.parse(c);
      return Number.isFinite(t) ? t : undefined;
    }
    return undefined;
  };
}

export function parseTraceCsv(text: string, o: { source?: string; column?: string; holdGaps?: boolean; scale?: number } = {}): ParsedTrace {
  const source = o.source ?? 'trace';
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length < 3) throw new TraceError(`${source}: needs a header and at least two rows, has ${Math.max(lines.length - 1, 0)} row(s)`);
  const header = lines[0]!.split(',').map((h) => h.trim());
  if (header.length < 2) throw new TraceError(`${source}: the header "${lines[0]}" needs a time column and a value column`);
  const col = o.column ?? header[1]!;
  const vi = header.indexOf(col);
  if (vi < 1) throw new TraceError(`${source}: no value column "${col}" (columns: ${header.slice(1).join(', ')})`);
  const parseTime = timeParser(header[0]!);
  const scale = o.scale ?? 1;
  const values: number[] = [];
  const filled: ParsedTrace['filled'] = [];
  let startMs = 0;
  let stepMs = 0;
  let prev: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const row = i + 1;
    const cells = lines[i]!.split(',');
    if (cells.length !== header.length) throw new TraceError(`${source} row ${row}: ${cells.length} cell(s), the header has ${header.length}: "${lines[i]}"`);
    const t = parseTime(cells[0]!);
    if (t === undefined) throw new TraceError(`${source} row ${row}: time "${cells[0]}" is neither a number nor an ISO timestamp`);
    const raw = cells[vi]!.trim();
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) throw new TraceError(`${source} row ${row}: ${col} "${raw}" is not a number`);
    if (v < 0) throw new TraceError(`${source} row ${row}: ${col} ${raw} is negative; demand cannot be`);
    // Beyond 2^53 sums and means lose whole units, and no pool serves such a rate: a slip (an exponent, a byte count).
    if (v > Number.MAX_SAFE_INTEGER) throw new TraceError(`${source} row ${row}: ${col} ${raw} is too large to be a demand (at most ${Number.MAX_SAFE_INTEGER})`);
    if (prev === undefined) {
      startMs = t;
    } else {
      if (t <= prev) throw new TraceError(`${source} row ${row}: time ${cells[0]!.trim()} does not come after the row before (times must increase)`);
      if (stepMs === 0) stepMs = t - prev;
      const steps = (t - prev) / stepMs;
      if (Math.abs(steps - Math.round(steps)) > 1e-6) throw new TraceError(`${source} row ${row}: time ${cells[0]!.trim()} is off the ${stepMs / 1000} s grid of the first rows`);
      if (Math.round(steps) > 1) {
        const missing = Math.round(steps) - 1;
        if (!o.holdGaps) throw new TraceError(`${source} row ${row}: a gap of ${missing} step(s) before time ${cells[0]!.trim()} (use --hold-gaps to repeat the last value over gaps)`);
        for (let k = 0; k < missing; k++) values.push(values[values.length - 1]!);
        filled.push({ row, steps: missing });
      }
    }
    values.push(v * scale);
    prev = t;
  }
  return { stepMs, startMs, values: Float64Array.from(values), column: col, filled };
}
