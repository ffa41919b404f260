// The CLI's exit codes come from error types: 2 the request was wrong and nothing changed, 1 the operation failed.
import { WrongRequestError } from '../config/wrong-request';

/** A wrong command line: a missing or malformed option, an unknown cluster. */
export class UsageError extends WrongRequestError {
  override name = 'UsageError';
}

/** A run that was refused for its input (out of range, unknown member): nothing was changed. */
export class RefusedRunError extends WrongRequestError {
  override name = 'RefusedRunError';
}

/** Every wrong request (a spec, setting, trace, token file, import, cluster request, history request) is a WrongRequestError. */
export function exitCodeOf(err: unknown): 1 | 2 {
  return err instanceof WrongRequestError ? 2 : 1;
}
