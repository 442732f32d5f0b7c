import type { Server } from './server-record.js';
import type { ServerStatus } from './status.js';

export interface ServerEvent {
  userId: number;
  server: Server;
}

export interface ServerStatusEvent extends ServerEvent {
  previous: ServerStatus;
}

/** Events of ServerService, each emitted after the change it reports is stored. */
export interface ServerEvents {
  'server:created': [ServerEvent];
  /** The status word changed. */
  'server:status': [ServerStatusEvent];
  /** ComfyUI answered /system_stats for the first time since the server (re)started. */
  'server:launched': [ServerEvent];
  'server:deleted': [ServerEvent];
  /** A labelled instance without a record was found and recorded. */
  'server:adopted': [ServerEvent];
}
