import type { FastifyBaseLogger } from 'fastify';
import type pino from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Args = Parameters<pino.LogFn>;

/**
 * The logger a request gets. pino's child, which binds the request id, is made only when the request writes a
 * line at an enabled level: building it for every request was the largest of fastify's own per-request costs,
 * and at the levels a server runs at most requests write nothing.
 */
class RequestLogger implements FastifyBaseLogger {
  readonly #parent: pino.Logger;
  readonly #bindings: pino.Bindings;
  #child: pino.Logger | undefined;

  constructor(parent: pino.Logger, bindings: pino.Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #made(): pino.Logger {
    return (this.#child ??= this.#parent.child(this.#bindings));
  }

  #write(level: Level, args: Args): void {
    const logger = this.#child ?? this.#parent;
    if (logger.isLevelEnabled(level)) this.#made()[level](...args);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.#made().level = level;
  }

  fatal(...args: Args): void {
    this.#write('fatal', args);
  }

  error(...args: Args): void {
    this.#write('error', args);
  }

  warn(...args: Args): void {
    this.#write('warn', args);
  }

  info(...args: Args): void {
    this.#write('info', args);
  }

  debug(...args: Args): void {
    this.#write('debug', args);
  }

  trace(...args: Args): void {
    this.#write('trace', args);
  }

  silent(): void {}

  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): FastifyBaseLogger {
    return this.#made().child(bindings, options) as FastifyBaseLogger;
  }
}

/**
 * fastify's `childLoggerFactory`: a request logger made on first use. A route with logger options of its own (a
 * level, serializers) gets pino's child at once, since they are the child's.
 */
export function requestLogger(logger: FastifyBaseLogger, bindings: pino.Bindings, options: pino.ChildLoggerOptions): FastifyBaseLogger {
  const parent = logger as pino.Logger;
  return Object.keys(options).length === 0 ? new RequestLogger(parent, bindings) : (parent.child(bindings, options) as FastifyBaseLogger);
}

/**
 * fastify's `disableRequestLogging` (of its log controller): a line for each request and each answer only at `debug` and below. At
 * `info` a loaded server would otherwise write two lines a request; errors are logged whatever the level allows.
 */
export const requestLoggingOff = (logger: pino.Logger) => (): boolean => !logger.isLevelEnabled('debug');
