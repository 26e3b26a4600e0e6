/**
 * The rule of pipeline-heartbeat (SPEC §10.1), pure: a pattern is satisfied when it matches (regex
 * search) the tag of at least one consumer whose activity is `up`; the queue is healthy when every
 * pattern is and, when a limit is set, no more than `maxReady` messages wait.
 */
import type { QueueInfo } from './management';

export interface Judgement {
  ok: boolean;
  /** Patterns with no live consumer, as given. */
  missing: string[];
  /** messages_ready is above max_ready. */
  backedUp: boolean;
}

export function compilePatterns(patterns: string[]): RegExp[] {
  // 'u' would reject some Python-valid escapes; plain JS regexes are the closer match to re.search.
  return patterns.map((p) => new RegExp(p));
}

export function patternSatisfied(pattern: RegExp, info: QueueInfo): boolean {
  return info.consumers.some((c) => c.activity === 'up' && pattern.test(c.tag));
}

export function judgeQueue(info: QueueInfo, patterns: string[], regexes: RegExp[], maxReady: number | null): Judgement {
  const missing = patterns.filter((_, i) => !patternSatisfied(regexes[i], info));
  const backedUp = maxReady !== null && info.messagesReady !== null && info.messagesReady > maxReady;
  return { ok: missing.length === 0 && !backedUp, missing, backedUp };
}
