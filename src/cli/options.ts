// Option parsers shared by the commands: each refuses a bad value with one line naming the flag (exit 2).
import { Option } from 'commander';
import { parseDuration } from '../config/duration';
import { UsageError } from './errors';

/** A duration option: 20s, 2m, 500ms or seconds. */
export function durationMs(flag: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new UsageError(`${flag} must be a duration such as 20s or 2m, not "${value}"`);
    return ms;
  };
}

/** A count option: a whole number of at least `least`. */
export function count(flag: string, least = 1) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < least) throw new UsageError(`${flag} must be a whole number of at least ${least}, not "${value}"`);
    return Number(value);
  };
}

/** A number option: 0 or more, decimals allowed. */
export function amount(flag: string) {
  return (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`${flag} must be a number of 0 or more, not "${value}"`);
    return Number(value);
  };
}

/**
 * An old spelling kept for a release: parsed, absent from --help. The command reads `preferred ?? old`, so scripts
 * written for the earlier name go on working while the help shows one name for one thing.
 */
export function oldSpelling(flags: string, replacedBy: string): Option {
  return new Option(flags, `old spelling of ${replacedBy}`).hideHelp();
}

/** The value of a required option that has an old spelling too (commander's requiredOption cannot see the alias). */
export function required<T>(value: T | undefined, flags: string): T {
  if (value === undefined) throw new UsageError(`required option '${flags}' not specified`);
  return value;
}
