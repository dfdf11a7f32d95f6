import { pino, type Logger, type LoggerOptions } from 'pino';

/** Paths pino blanks out: credentials must never reach a log line. */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  'newPassword',
  'token',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.authorization',
];

export function createManagerLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { component: 'manager' },
    redact: { paths: [...LOG_REDACT_PATHS], censor: '[redacted]' },
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}
