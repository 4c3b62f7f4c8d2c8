// The server's structured log (pino), written to stderr so that stdout carries only the `listening on`
// line. Pretty (pino-pretty) only when a person is watching: stdout is a TTY and pino-pretty is installed.
import { createRequire } from 'node:module';
import pino, { type Logger, type LevelWithSilent } from 'pino';

export { LOG_LEVELS } from './defaults';

export function createLogger(level: LevelWithSilent = 'info', pretty = process.stdout.isTTY === true): Logger {
  if (pretty) {
    try {
      const target = createRequire(import.meta.url).resolve('pino-pretty');
      return pino({ level, transport: { target, options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } } });
    } catch {
      // pino-pretty is a dev dependency: without it, the log stays JSON.
    }
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
