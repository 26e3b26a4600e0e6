/** One subcommand of `gobearmon`: its help text and what it does; `run` resolves to the exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Full usage text printed by `gobearmon NAME --help`. */
  usage: string;
  run(args: string[]): Promise<number>;
  /**
   * The arguments that are this command's own options, where `--help`/`-h` asks for help; by default
   * those before `--`. A command that runs a trailing COMMAND passes that command's `-h` through.
   */
  ownOptions?(args: string[]): string[];
}

/** The arguments before `--`: beyond it they belong to the program a command runs. */
export function beforeSeparator(args: string[]): string[] {
  const end = args.indexOf('--');
  return end < 0 ? args : args.slice(0, end);
}

/** Bad command-line input: printed with the command's usage, exit 2. */
export class UsageError extends Error {}

/**
 * Splits `args` into positionals and `--flag value` / `--flag=value` / boolean flags.
 * Unknown flags are a UsageError so a typo never passes silently.
 */
export function parseArgs(
  args: string[],
  spec: { values?: string[]; booleans?: string[] },
): { positionals: string[]; flags: Record<string, string>; bools: Set<string> } {
  const values = new Set(spec.values ?? []);
  const booleans = new Set(spec.booleans ?? []);
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  const bools = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (booleans.has(name) && eq < 0) bools.add(name);
    else if (values.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { positionals, flags, bools };
}
