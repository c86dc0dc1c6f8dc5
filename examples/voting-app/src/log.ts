import { type Logger, pino } from 'pino';

/** Structured logs (JSON lines on stdout), one `service` field to tell the six apart. */
export function serviceLogger(service: string, env: NodeJS.ProcessEnv = process.env): Logger {
  return pino({ level: env.LOG_LEVEL ?? 'info', base: { service, pid: process.pid } });
}

/** For tests and callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
