import { describe, expect, it } from 'vitest';
import { explainFailure } from '../../src/api/error-messages.js';
import { imageFileName, outputSegments, workflowName } from '../../src/generate/output-paths.js';
import { ProgressIncrements } from '../../src/generate/progress-math.js';

describe('output paths', () => {
  it('names the folder after the workflow file', () => {
    expect(workflowName('/repo/workflows/portrait.comfy.json')).toBe('portrait');
    expect(workflowName('C:\\repo\\sdxl.json')).toBe('sdxl');
    expect(outputSegments('comfy-outputs', '/repo/portrait.comfy.json')).toEqual(['comfy-outputs', 'portrait']);
    expect(outputSegments('out/images/', '/repo/a:b.json')).toEqual(['out', 'images', 'a_b']);
  });

  it.each(['../elsewhere', '/tmp/out', 'C:\\out', ''])('refuses an output folder outside the workspace: %j', (setting) => {
    expect(() => outputSegments(setting, 'x.json')).toThrow(/inside the workspace/);
  });

  it('keeps the image URL’s extension', () => {
    expect(imageFileName(456, 0, '/api/comfy/images/456_1.png')).toBe('456_1.png');
    expect(imageFileName(7, 2, '/api/comfy/images/x.JPG?download=1')).toBe('7_3.jpg');
    expect(imageFileName(7, 0, '/api/comfy/images/7')).toBe('7_1.png');
  });
});

describe('ProgressIncrements', () => {
  it('turns absolute percentages into increments that never go back or past 100', () => {
    const p = new ProgressIncrements();
    expect([10, 40, 30, 100, 120].map((v) => p.next(v))).toEqual([10, 30, 0, 60, 0]);
  });
});

describe('explainFailure', () => {
  const url = 'http://127.0.0.1:5000';
  it.each([
    [{ code: 'RATE_LIMIT_EXCEEDED', message: 'x', retryAfter: 12 }, /wait 12 s/, undefined],
    [{ code: 'SERVER_NOT_RUNNING', message: 'x' }, /Start it from the Servers view/, 'startServer'],
    [{ code: 'WORKFLOW_INVALID', message: 'node 3: bad' }, /invalid: node 3: bad/, undefined],
    [{ code: 'GENERATION_FAILED', message: 'CUDA out of memory. Tried to allocate 2.00 GiB' }, /Lower the width, height or batch size/, undefined],
    [{ code: 'NOT_SIGNED_IN', message: 'x' }, /Sign In/, 'signIn'],
  ])('explains %j', (error, message, action) => {
    const explained = explainFailure(error, url);
    expect(explained.message).toMatch(message);
    expect(explained.action).toBe(action);
  });
});
