/**
 * Turns `gobearmon check add TYPE --flag value …` into a check's JSON parameters, using only the
 * type's own parameter definition (ParamSpec): `expect_status` is `--expect-status`, a bool is a
 * bare `--insecure`, a map is a repeatable `--headers Name=value`, a list a repeatable `--args x`.
 * Pure: the CLI prints what it returns.
 */
import type { ParamSpec } from '../checks/types';

/** Options of `check add` itself (not parameters of the check). */
export const COMMON_OPTIONS = ['config', 'name', 'interval', 'delay', 'tags', 'disabled', 'data'] as const;

export function flagName(key: string): string {
  return key.replace(/_/g, '-');
}

export interface ParsedAdd {
  params: Record<string, unknown>;
  common: Record<string, string>;
  disabled: boolean;
}

/** Parses the flags after `check add TYPE`; throws an Error naming the flag on bad input. */
export function parseCheckFlags(args: string[], specs: readonly ParamSpec[]): ParsedAdd {
  const byFlag = new Map(specs.map((s) => [flagName(s.key), s]));
  const params: Record<string, unknown> = {};
  const common: Record<string, string> = {};
  let disabled = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)} (values follow their --flag)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const spec = byFlag.get(name);
    if (name === 'disabled' && !spec) {
      disabled = true;
      continue;
    }
    if (!spec && !(COMMON_OPTIONS as readonly string[]).includes(name)) {
      throw new Error(`unknown option --${name}; this type takes: ${[...byFlag.keys()].map((f) => `--${f}`).join(', ')}`);
    }
    if (spec?.kind === 'bool' && (inline === undefined || inline === 'true' || inline === 'false')) {
      params[spec.key] = inline !== 'false';
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (!spec) {
      common[name] = value;
      continue;
    }
    switch (spec.kind) {
      case 'string':
        params[spec.key] = value;
        break;
      case 'number': {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(value)}`);
        params[spec.key] = n;
        break;
      }
      case 'bool':
        throw new Error(`--${name} takes no value, or =true / =false`);
      case 'map': {
        const at = value.indexOf('=');
        if (at <= 0) throw new Error(`--${name} takes Name=value, got ${JSON.stringify(value)}`);
        const map = (params[spec.key] ?? {}) as Record<string, string>;
        map[value.slice(0, at)] = value.slice(at + 1);
        params[spec.key] = map;
        break;
      }
      case 'list':
        params[spec.key] = [...((params[spec.key] as string[] | undefined) ?? []), value];
        break;
    }
  }
  return { params, common, disabled };
}

/** A whole number of at least `min` from a flag, or an Error naming it. */
export function wholeNumber(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
  if (n < min) throw new Error(`--${name} must be at least ${min}, got ${n}`);
  return n;
}
