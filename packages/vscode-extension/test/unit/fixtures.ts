import { readFileSync } from 'node:fs';
import { parseObjectInfo } from '@comfy-vast/core/workflow';
import type { ObjectInfo } from '../../src/workflow/core-adapter.js';

const here = new URL('../fixtures/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, here), 'utf8');
}

/** Node specs recorded from a real ComfyUI (a subset of its /object_info). */
export function objectInfo(): ObjectInfo {
  return parseObjectInfo(JSON.parse(fixtureText('object-info.json')));
}
