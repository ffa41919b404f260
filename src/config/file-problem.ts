// Why a file could not be read, in words: one wording for specs, traces and imported templates.
export function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read the file: ${code ?? (err as Error).message}`;
}
