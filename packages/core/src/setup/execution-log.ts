import type { RemoteLine } from '../remote/lines.js';
import type { ExecutionLogEntry, ExecutionRecord } from './records.js';

/** Entries kept per execution; older ones are dropped (and counted) past it. */
export const LOG_MAX_ENTRIES = 1000;

/** The lines an execution's log keeps: what remote.sh prints during setup and reset. */
export type LoggedLine = Extract<RemoteLine, { kind: ExecutionLogEntry['kind'] }>;

export const isLoggedLine = (line: RemoteLine): line is LoggedLine =>
  line.kind === 'step' || line.kind === 'progress' || line.kind === 'retry' || line.kind === 'error' || line.kind === 'done';

/**
 * The log with one more line: a progress line replaces the progress line just before it (a model download prints
 * one a second, and only the latest says anything), and past LOG_MAX_ENTRIES the oldest entries go.
 */
export function appendToLog(record: Pick<ExecutionRecord, 'log' | 'lastSeq' | 'droppedLines'>, line: LoggedLine, at: string): Pick<ExecutionRecord, 'log' | 'lastSeq' | 'droppedLines'> & { entry: ExecutionLogEntry } {
  const seq = record.lastSeq + 1;
  const entry = { seq, at, ...line } as ExecutionLogEntry;
  const log = record.log.at(-1)?.kind === 'progress' && line.kind === 'progress' ? [...record.log.slice(0, -1), entry] : [...record.log, entry];
  const excess = Math.max(0, log.length - LOG_MAX_ENTRIES);
  return { log: excess ? log.slice(excess) : log, lastSeq: seq, droppedLines: record.droppedLines + excess, entry };
}
