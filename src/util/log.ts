/** Structured logs: one JSON line per event that matters to an operator (pino, as fastify uses). */
import pino from 'pino';
import { prettyLine } from './log-pretty';

export type Logger = pino.Logger;
export type LogFormat = 'json' | 'pretty';

/**
 * The node's root logger; each component adds itself with `log.child({ component })`.
 * The level is GOBEARMON_LOG_LEVEL when set, else debug or info; `pretty` writes readable lines.
 */
export function createLogger(debug: boolean, node?: string, format: LogFormat = 'json', out: NodeJS.WritableStream = process.stdout): Logger {
  const opts = { level: process.env.GOBEARMON_LOG_LEVEL ?? (debug ? 'debug' : 'info'), base: node ? { node } : {} };
  if (format === 'json') return out === process.stdout ? pino(opts) : pino(opts, { write: (s: string) => void out.write(s) });
  return pino(opts, { write: (s: string) => void out.write(`${prettyLine(s)}\n`) });
}

/** A logger that drops everything, for tests and benchmarks that do not read logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
