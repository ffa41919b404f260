// The workflows' patch ids, one place for each. All but `demandTrend`, `localRunSteps` and `calibratedFloor` are retired: the old branch is gone and deprecatePatch()
// stands where patched() stood, so the histories of runs begun under patched() (which carry its marker) still replay.
// An autoscaler continues as new every `continueAsNewAfter` iterations and a scaling run lasts minutes, so a day after
// a release every running history is the new code's. In the release after this one the deprecatePatch() calls go too
// (Temporal's patching guide, step 3): by then no running history carries a marker that is not deprecated, and the
// replay histories are the ones recorded with deprecatePatch() (markers flagged deprecated, which replay skips).
export const PATCHES = {
  /** Failed runs back off and a permanent fault suspends its direction (before it, a broken cluster ran two runs a second). */
  failedRunBackoff: 'failed-run-backoff',
  /** The pool's other members are re-registered while a scale-out runs (before it, only after the run's end). */
  poolRepairedDuringScaleOut: 'pool-repaired-during-scale-out',
  /** The wake flag is cleared as each iteration starts, not just before the sleep. */
  wakeClearedAtIterationStart: 'wake-cleared-at-iteration-start',
  /** Broken members are replaced. */
  healthReplacement: 'health-replacement',
  /** Schedules and forecasts. */
  proactiveScaling: 'proactive-scaling',
  /** The demand floor (recent level plus a margin) in place of the seasonal forecast's peak. */
  forecastDemandFloor: 'forecast-demand-floor',
  /** The demand floor waits for a spread measured from enough readings. */
  demandFloorSpreadEvidence: 'demand-floor-spread-evidence',
  /** Metrics are read by a local activity. */
  localMetricReads: 'local-metric-reads',
  /** The warm pool. */
  warmPool: 'warm-pool',
  /**
   * Live: the demand floor's level carries half the window's trend to now (before it, the window's mean). Specs with
   * an objective calibrate their margin; those from before objectives carry `margin: 2` and are unchanged by that.
   */
  demandTrend: 'demand-trend',
  /** Live: a scale-out's bound check and its join of the pool run as local activities (before it, as activities). */
  localRunSteps: 'local-run-steps',
  /**
   * Live: with an objective, the demand floor acts once its calibration rests on its own scores, whether the forecast
   * fits or not, a short reading counts the stretch since the reading before, and the spread remembers a week (before
   * it: the floor acted only while the forecast fitted, a short reading marked the whole minute it averages, the spread
   * remembered a day). policy/prediction.ts: floorActs, ShortCount, SPREAD_HALF_LIFE_MS.
   */
  calibratedFloor: 'calibrated-floor',
} as const;
