// One kind for every error that means "the request was wrong; nothing was changed" (a malformed spec, trace, setting
// or command line, an unknown cluster, an out-of-range count). The CLI exits 2 for any of them and 1 for the rest; one
// base class here, at the bottom layer, lets it tell them apart without importing every layer that throws one (the
// Temporal client among them, a fifth of a second to load for a command that never connects).

/** The request was wrong and nothing was changed: the CLI's exit code 2. */
export class WrongRequestError extends Error {
  override name = 'WrongRequestError';
}
