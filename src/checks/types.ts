/** Contract shared by every check type (one module per type, see registry.ts). */
import { HostResolver } from '../net/resolver';

export type Status = 'online' | 'offline';

/** What a worker reports: `fail` means "could not run it" and never counts toward a flip. */
export type ResultStatus = Status | 'fail';

export interface CheckResult {
  status: ResultStatus;
  message: string;
  /** Wall time the check took, in milliseconds. */
  durationMs: number;
  /** The type's own facts (HTTP status code, ping loss, certificate CN, DNS answers, …). */
  facts?: Record<string, unknown>;
}

export interface CheckContext {
  /** `[dns] server` of the node running the check (host or host:port); may be empty. */
  dnsServer: string;
  /** Name of the worker running it; HTTP checks send it as X-Gobearmon-Worker so a target can tell probes apart. */
  worker?: string;
  /** `[exec] dir` of the node running it (absolute); empty or absent: exec checks are refused. */
  execDir?: string;
  /** Resolves target names off libuv's thread pool; one per process (a fresh one when absent). */
  resolver?: HostResolver;
}

/** The context's resolver, or a fresh one (it holds no connection, only a c-ares channel). */
export function resolverOf(ctx: CheckContext): HostResolver {
  return ctx.resolver ?? new HostResolver();
}

/** How long a target's name may take to resolve: inside the check's own deadline, so the check can say why. */
export function lookupBudgetMs(checkTimeoutMs: number): number {
  return Math.max(1_000, Math.round(checkTimeoutMs * 0.8));
}

/** Thrown by `parse` with a message a person can act on, e.g. `missing parameter "url"`. */
export class ParamError extends Error {}

/** One parameter of a check type's JSON: what `gobearmon check add` offers as `--flag` and probe/controller accept. */
export interface ParamSpec {
  key: string;
  kind: 'string' | 'number' | 'bool' | 'map' | 'list';
  required?: boolean;
  help: string;
}

export interface CheckType<P> {
  name: string;
  /** Every key `parse` reads (the one definition the CLI's flags and the unknown-key warnings come from). */
  params: readonly ParamSpec[];
  /** Validates the decoded JSON of `checks.data`; throws ParamError. */
  parse(data: unknown): P;
  /** Runs the check once. May throw; the registry turns that into an offline result. */
  run(params: P, ctx: CheckContext): Promise<CheckResult>;
  /** The longest one run may take with these parameters (the registry's hard limit when absent). */
  deadlineMs?(params: P): number;
}
