// Limits the spec's validation and the policy share, kept apart from the zod schemas so that workflow code importing
// them does not build the schemas (the workflow loads those only when a live spec is applied).

/** Readings the demand floor's window must hold before a new one counts toward its spread (policy/nowcast). */
export const DEMAND_WINDOW_MIN_READINGS = 4;
