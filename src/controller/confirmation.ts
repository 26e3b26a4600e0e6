/**
 * The confirmation rule (SPEC §5), pure: a check flips only when `quorum` different workers saw
 * the opposite status, for more than `delay` consecutive rounds.
 */
import type { ResultStatus, Status } from '../checks/types';

export interface ConfirmationState {
  status: Status;
  /** Workers that reported the opposite status in this round. */
  turnSet: Set<string>;
  /** Completed rounds of agreement on the opposite status. */
  turnCount: number;
  delay: number;
}

/** Applies one accepted result; returns the new status when the check flips, else null. */
export function applyResult(state: ConfirmationState, worker: string, result: ResultStatus, quorum: number): Status | null {
  if (result === 'fail') return null; // "could not run it" never counts toward a flip
  if (result === state.status) {
    state.turnSet.clear();
    state.turnCount = 0;
    return null;
  }
  state.turnSet.add(worker);
  if (state.turnSet.size < quorum) return null;
  state.turnSet.clear();
  state.turnCount++;
  if (state.turnCount <= state.delay) return null;
  // Unlike the original, the count restarts after a flip, so one round cannot flip it straight back.
  state.turnCount = 0;
  state.status = result;
  return result;
}

/** Effective quorum: never more than the workers alive, so a shrunken cluster can still flip. */
export function effectiveQuorum(confirmations: number, liveWorkers: number): number {
  return Math.max(1, Math.min(confirmations, liveWorkers));
}
