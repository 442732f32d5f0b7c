import { z } from 'zod';
import { Id } from './common.js';
import { defineEndpoint } from './endpoint.js';

/** ComfyUI's `/object_info` as the server answers it: node class name → definition, passed on as it is. */
const ObjectInfo = z.record(z.string(), z.unknown());

export const objectInfoEndpoints = {
  getObjectInfo: defineEndpoint({
    method: 'GET',
    path: '/comfy/:serverId/object-info',
    summary: 'The node definitions (ComfyUI’s object_info) of one of the caller’s running servers',
    tag: 'Workflow Management',
    auth: 'user',
    params: z.object({ serverId: Id }),
    response: ObjectInfo,
  }),
};
