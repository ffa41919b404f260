// The CLI's exit codes come from error types: 2 the request was wrong and nothing changed, 1 the operation failed.
import { SpecError } from '../config/spec';
import { SettingsError } from '../config/settings';
import { ClusterRequestError } from '../client/clusters';
import { TraceError } from '../config/trace';
import { BacktestInputError } from '../policy/peers';
import { TokensFileError } from '../config/tokens';
import { HistoryRequestError } from '../lab/backfill';
import { ImportError } from '../config/import-common';

/** A wrong command line: a missing or malformed option, an unknown cluster. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A run that was refused for its input (out of range, unknown member): nothing was changed. */
export class RefusedRunError extends Error {
  override name = 'RefusedRunError';
}

/** Errors whose meaning is "the request was wrong; nothing was changed". */
export const WRONG_REQUEST: (new (...args: never[]) => Error)[] = [UsageError, RefusedRunError, SpecError, SettingsError, ClusterRequestError, TraceError, BacktestInputError, TokensFileError, HistoryRequestError, ImportError];

export function exitCodeOf(err: unknown): 1 | 2 {
  return WRONG_REQUEST.some((t) => err instanceof t) ? 2 : 1;
}
