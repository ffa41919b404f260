// Errors the CLI reports as one line with exit code 2: the request was wrong and nothing changed.
export class UsageError extends Error {
  override name = 'UsageError';
}
