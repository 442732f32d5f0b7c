import pino, { type LoggerOptions } from 'pino';

/** Paths of every secret that could reach a log line; pino replaces their values. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'vastApiKey',
  '*.vastApiKey',
  'password',
  '*.password',
  'webPassword',
  '*.webPassword',
  'privateKey',
  '*.privateKey',
  'adminToken',
  '*.adminToken',
  'config.vastApiKey',
  'config.adminToken',
];

/** Strips `token=` (WebSocket auth) from a logged URL. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|apiKey|api_key)=)[^&#]*/gi, '$1[redacted]');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
    },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
