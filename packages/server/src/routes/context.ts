import type { ComfyVast } from '@comfy-vast/core';
import type { FastifyInstance } from 'fastify';
import type { WebSocketHub } from '../ws/hub.js';

/** What every route file gets: the framework, the library and the WebSocket hub. */
export interface RouteContext {
  fastify: FastifyInstance;
  comfyVast: ComfyVast;
  hub: WebSocketHub;
  provider: 'vast' | 'simulated';
  version: string;
}
