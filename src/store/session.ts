/** Session bounds on a controller's store connections (see MysqlOptions.session). */
import type { SessionLimits } from './mysql';

/**
 * A statement waits at most 3 s for a row lock and the server ends a transaction idle for 3 s (a
 * frozen or cut-off controller's locks go with it), so no controller blocks another for long;
 * our transactions are a few short statements, never I/O in between. One statement runs ≤ 60 s.
 */
export const CONTROLLER_SESSION: SessionLimits = { lockWaitS: 3, idleTransactionS: 3, statementS: 60 };
