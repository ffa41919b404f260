// Process settings from the environment, with their defaults in one place.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The checkout poolpilot runs from: the nearest folder above this file with package.json (from src/ or dist/src/). */
export const PROJECT_ROOT = ((): string => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
})();

/** Where the lab keeps its state unless POOLPILOT_LAB_DIR says otherwise. */
export const DEFAULT_LAB_DIR = path.join(PROJECT_ROOT, '.data', 'lab');

export const settingsSchema = z.object({
  POOLPILOT_TASK_QUEUE: z.string().min(1).default('poolpilot'),
  POOLPILOT_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** JSON file of credentials by reference: { "<ref>": { "username", "password" } }. */
  POOLPILOT_CREDENTIALS_FILE: z.string().optional(),
  /** Where the lab keeps its state; the CLI reads the lab's endpoints from here. */
  POOLPILOT_LAB_DIR: z.string().default(DEFAULT_LAB_DIR),
  POOLPILOT_API_PORT: z.coerce.number().int().min(1).max(65535).default(18700),
});

export type Settings = z.infer<typeof settingsSchema>;

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const r = settingsSchema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}
