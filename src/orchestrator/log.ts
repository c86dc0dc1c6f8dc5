import pino, { type DestinationStream, type Logger } from 'pino';

/** Secrets must never reach a log line, wherever they appear in a request, body or error. */
export const REDACT = [
  'req.headers.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  'passwordHash',
  '*.passwordHash',
];

export function orchestratorLogger(level: string, dest?: DestinationStream): Logger {
  const opts = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  return dest ? pino(opts, dest) : pino(opts);
}
