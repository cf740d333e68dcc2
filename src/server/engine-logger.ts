import type { FastifyBaseLogger } from 'fastify';
import type { EngineLogger } from '../sync/engine/index.js';

/** The sync engine's and supervisor's lines in the server's own log, with their details as fields. */
export function engineLoggerOf(log: FastifyBaseLogger): EngineLogger {
  return {
    info: (message, details) => log.info(details ?? {}, message),
    warn: (message, details) => log.warn(details ?? {}, message),
    error: (message, details) => log.error(details ?? {}, message),
  };
}
