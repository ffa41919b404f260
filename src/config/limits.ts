// Limits the spec's validation and the policy share, kept apart from the zod schemas so that workflow code importing
// them does not build the schemas (the workflow loads those only when a live spec is applied).

/** Readings the demand floor's window must hold before a new one counts toward its spread (policy/prediction). */
export const DEMAND_WINDOW_MIN_READINGS = 4;

/**
 * Failed runs' backoff (autoscaling.failureBackoff): the first wait, and the cap that is also the probe interval of a
 * suspended direction. A few seconds rides out a blip; five minutes keeps one probe per cap far below a directory's
 * lockout threshold (typically 5 to 10 failed logins in 15 minutes). Specs recorded before the field read these.
 */
export const FAILURE_BACKOFF_DEFAULTS = { initial: 5_000, max: 300_000 } as const;

/**
 * The size of what a spec may be, checked before it is parsed or validated, the same for the CLI's file and the API's
 * body. A real spec is a few kilobytes, a dozen levels deep, with a handful of hooks and schedules; these bounds are
 * far above that and far below what would cost seconds of CPU, a gigabyte of memory or the parser's stack.
 */
export const SPEC_LIMITS = {
  /** Bytes of the file or body (the API's body limit is the same). */
  bytes: 1 << 20,
  /** Nesting of maps and lists. */
  depth: 32,
  /** Maps, lists and values in all. */
  nodes: 20_000,
  /** Characters of one string. */
  stringLength: 16_384,
  /** Entries of each list of the spec. */
  metrics: 20,
  hooks: 20,
  schedules: 50,
} as const;

/** Alerts in one Alertmanager webhook call (each becomes an alarm request). */
export const MAX_ALERTS_PER_WEBHOOK = 100;

/**
 * What is wrong with the shape of `value` (too deep, too many nodes, a string too long), or undefined. Walks with a
 * stack of its own, so a value nested past any limit is measured without recursion.
 */
export function structureProblem(value: unknown, limits: { depth: number; nodes: number; stringLength: number } = SPEC_LIMITS): string | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '(top level)']];
  let nodes = 0;
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (++nodes > limits.nodes) return `more than ${limits.nodes} values in all: a spec is far smaller`;
    if (typeof v === 'string' && v.length > limits.stringLength) return `${path}: a string of ${v.length} characters, over the limit of ${limits.stringLength}`;
    if (!v || typeof v !== 'object') continue;
    if (depth >= limits.depth) return `${path}: nested more than ${limits.depth} levels deep`;
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    for (const [k, x] of entries) stack.push([x, depth + 1, path === '(top level)' ? k : `${path}.${k}`]);
  }
  return undefined;
}

/**
 * How deep the lists and maps of a JSON text nest, counted without parsing it (strings skipped), so a body nested
 * past the limit is refused before a recursive parser or serializer can exhaust its stack.
 */
export function jsonNestingProblem(text: string, limit: number = SPEC_LIMITS.depth): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return `the JSON is nested more than ${limit} levels deep`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}
