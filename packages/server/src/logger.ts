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
  'huggingfaceToken',
  'civitaiToken',
  '*.huggingfaceToken',
  '*.civitaiToken',
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

/** Query parameter names that carry a credential: token, access_token, api_key, apikey, key, password, secret, auth... */
const CREDENTIAL_NAME = /token|key|secret|pass|pwd|auth|credential|session|signature|sig$|jwt/i;
// Written over JSON text: a backslash starts an escape that belongs to the value, a bare quote ends it.
const QUERY_PARAM = /([?&])((?:[^=&#\s"\\]|\\.)+)=(?:[^&#\s"\\]|\\.)*/g;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)(?:[^\s/?#@"\\]|\\.)+@/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]+/gi;

function looksLikeCredential(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // A malformed name is judged as written.
  }
  return CREDENTIAL_NAME.test(decoded);
}

/**
 * Replaces every credential a line of text can carry: the value of a query parameter whose name looks like a
 * credential, the `user:password@` of a URL and the value of a Bearer or Basic authorization. It runs over each
 * log line as written, so a secret inside a message, a URL field or an error's stack is caught as well.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(QUERY_PARAM, (match, sep: string, name: string) => (looksLikeCredential(name) ? `${sep}${name}=[redacted]` : match))
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(AUTH_SCHEME, '$1$2[redacted]');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id?: string }) => ({ id: req.id, method: req.method, url: req.url }),
    },
    hooks: { streamWrite: redactCredentials },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
