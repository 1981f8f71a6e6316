/**
 * The server's JSON logger (pino), created before anything else so that every line of the start,
 * model loading included, goes to one log; fastify is handed this instance (`loggerInstance`).
 */
import { pino, stdSerializers, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { redactedRequestSerializer } from '../tracing/redact.js';

/** The logger setting: false (silent), true (JSON at `level`), or pino options with an optional `stream`. */
export type LoggerSetting = boolean | (LoggerOptions & { readonly stream?: DestinationStream });

/** A pino logger for `setting`; request URLs in `req` are logged with secrets redacted. */
export function createLogger(setting: LoggerSetting, level: string): Logger {
  if (setting === false) return pino({ enabled: false });
  const { stream, ...options } = setting === true ? {} : setting;
  const serializers = {
    // fastify's own serializers for the request, the reply and errors, the URL redacted.
    req: redactedRequestSerializer,
    res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    err: stdSerializers.err,
    ...options.serializers,
  };
  const merged: LoggerOptions = { level, ...options, serializers };
  return stream ? pino(merged, stream) : pino(merged);
}
