/** Structured logs: one JSON line per event that matters to an operator (pino, as fastify uses). */
import pino from 'pino';

export type Logger = pino.Logger;

/** The node's root logger; each component adds itself with `log.child({ component })`. */
export function createLogger(debug: boolean, node?: string): Logger {
  return pino({ level: process.env.GOBEARMON_LOG_LEVEL ?? (debug ? 'debug' : 'info'), base: node ? { node } : {} });
}

/** A logger that drops everything, for tests and benchmarks that do not read logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
