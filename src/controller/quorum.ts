/**
 * How many workers must agree for a flip (SPEC §5, §12), pure. A worker counts as gone only when
 * this controller does not hear it (no request, no poll, no unexpired lock) AND the viewserver
 * does not see its node either: slowness never lowers the quorum, and a controller cut off from
 * workers the viewserver still sees is the partitioned one. It must stop judging and give up office.
 */
import { effectiveQuorum } from './confirmation';

export interface QuorumInput {
  confirmations: number;
  /** Workers this controller counts alive: recent requests, open polls, unexpired locks (busy is alive). */
  heard: ReadonlySet<string>;
  /**
   * Workers whose requests reached this controller within the worker timeout (a busy worker still
   * polls for no slot every second). A worker holding locks but silent may be cut off: this decides
   * the partition; `heard` decides the quorum. Defaults to `heard`.
   */
  talking?: ReadonlySet<string>;
  /** Worker names whose nodes the viewserver finds live; null when it has not said (older viewserver). */
  seenByViewserver: ReadonlySet<string> | null;
  /** Workers too new to be missed (just seen by the viewserver, or this office just began). */
  settling: ReadonlySet<string> | 'all';
}

export interface QuorumJudgement {
  /** Workers counted alive: heard, or seen by the viewserver. */
  counted: number;
  quorum: number;
  degraded: boolean;
  /** Workers the viewserver sees but this controller does not hear. */
  missing: string[];
  /** Why this controller must not judge, or null. */
  partitioned: string | null;
}

export function judgeQuorum({ confirmations, heard, talking = heard, seenByViewserver, settling }: QuorumInput): QuorumJudgement {
  const alive = new Set(heard);
  for (const w of seenByViewserver ?? []) alive.add(w);
  const counted = alive.size;
  const quorum = effectiveQuorum(confirmations, counted);
  const missing = settling === 'all' ? [] : [...(seenByViewserver ?? [])].filter((w) => !talking.has(w) && !settling.has(w)).sort();
  // Cut off: too few heard to reach the quorum alone, or not a strict majority of the cluster.
  // One silent worker in a healthy cluster is its own problem, not this controller's.
  const hears = counted - missing.length;
  const cutOff = missing.length > 0 && (hears < quorum || hears * 2 <= counted);
  const partitioned = cutOff
    ? `partitioned: hears ${hears} of ${counted} live workers; the viewserver sees ${missing.join(', ')} which this controller does not hear`
    : null;
  return { counted, quorum, degraded: counted < confirmations, missing, partitioned };
}
