import type { Execution } from '@comfy-vast/core';
import { describe, expect, it } from 'vitest';
import { toServerExecution } from '../src/wire/setup.js';

const running = {
  id: 7,
  serverId: 3,
  scriptId: 1,
  kind: 'setup',
  status: 'running',
  step: 3,
  of: 6,
  stepName: 'Cloning ComfyUI repository',
  stepSkipped: false,
  startedAt: '2026-12-06T06:00:00.000Z',
  estimatedCompletion: '2026-12-06T06:03:00.000Z',
  finishedAt: null,
  error: null,
  keepModels: null,
} as unknown as Execution;

describe('an execution on the wire', () => {
  it('says what it does in the spec’s words: waiting, the step under way, done or failed', () => {
    expect(toServerExecution({ ...running, step: null, of: null, stepName: null }).output).toBe('Waiting for the server...');
    expect(toServerExecution(running).output).toBe('Step 3/6: Cloning ComfyUI repository...');
    expect(toServerExecution({ ...running, stepSkipped: true }).output).toBe('Step 3/6: Cloning ComfyUI repository (already done)');
    expect(toServerExecution({ ...running, status: 'completed' }).output).toBe('ComfyUI setup completed');
    expect(toServerExecution({ ...running, status: 'failed', error: { message: 'git clone failed', reason: 'script' } } as unknown as Execution).output).toBe(
      'Failed at step 3/6 (Cloning ComfyUI repository): git clone failed',
    );
  });
});
