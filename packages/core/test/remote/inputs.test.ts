import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MODEL_FOLDERS, modelFileNameSchema, modelFolderSchema, modelUrlSchema, sha256Schema, tokenSchema } from '../../src/remote/inputs.js';
import { parseRemoteLine } from '../../src/remote/lines.js';
import { shellCommand, shellQuote } from '../../src/remote/shell-quote.js';

describe('shellQuote', () => {
  it('round-trips any string through a local POSIX shell', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', '')), { minLength: 1, maxLength: 4 }), (words) => {
        const out = execFileSync('sh', ['-c', `${shellCommand(['printf', '%s\\0', ...words])}`]);
        expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses NUL, which no argument can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});

describe('model inputs', () => {
  it('allows the folders ComfyUI reads models from, and nothing else', () => {
    for (const folder of ['checkpoints', 'vae', 'loras', 'controlnet', 'text_encoders', 'diffusion_models', 'upscale_models', 'embeddings', 'clip_vision', 'clip', 'unet'])
      expect(modelFolderSchema.safeParse(folder).success).toBe(true);
    for (const folder of ['configs', '../checkpoints', 'checkpoints/sub', 'Checkpoints', '', 'custom_nodes', '__proto__'])
      expect(modelFolderSchema.safeParse(folder).success).toBe(false);
    expect(MODEL_FOLDERS).not.toContain('configs');
  });

  it('takes plain model file names only', () => {
    for (const name of ['sd_xl_base_1.0.safetensors', 'flux1-dev-fp8.safetensors', 'Juggernaut XL (v9) [Lightning].safetensors', '4x-UltraSharp.pth'])
      expect(modelFileNameSchema.safeParse(name).success).toBe(true);
    for (const name of ['model.txt', 'a/b.safetensors', 'a\\b.safetensors', '../x.safetensors', 'x..safetensors', '-x.safetensors', '.x.safetensors', 'x.safetensors ', 'é.safetensors', 'x'.repeat(250) + '.safetensors'])
      expect(modelFileNameSchema.safeParse(name).success).toBe(false);
  });

  it('takes http(s) URLs without credentials', () => {
    expect(modelUrlSchema.safeParse('https://huggingface.co/a/b/resolve/main/c.safetensors?download=true').success).toBe(true);
    for (const url of ['ftp://host/x', 'file:///etc/passwd', 'javascript:alert(1)', 'https://user:pass@host/x', 'https://token@host/x', 'https://host/a b', 'https://host/a\nb', 'not a url'])
      expect(modelUrlSchema.safeParse(url).success).toBe(false);
  });

  it('normalises sha256 to lower case and takes tokens that cannot break a header', () => {
    expect(sha256Schema.parse('A'.repeat(64))).toBe('a'.repeat(64));
    expect(sha256Schema.safeParse('a'.repeat(63)).success).toBe(false);
    expect(tokenSchema.safeParse('hf_AbC.123-x').success).toBe(true);
    for (const token of ['a b', 'a"b', 'a\nb', ''] ) expect(tokenSchema.safeParse(token).success).toBe(false);
  });
});

describe('the line protocol', () => {
  it('types each kind of line', () => {
    expect(parseRemoteLine('{"step":3,"of":6,"name":"Cloning ComfyUI repository"}')).toEqual({ kind: 'step', line: { step: 3, of: 6, name: 'Cloning ComfyUI repository' } });
    expect(parseRemoteLine('{"bytes":10,"total":null}')).toEqual({ kind: 'progress', line: { bytes: 10, total: null } });
    expect(parseRemoteLine('{"folder":"vae","name":"a.pt","bytes":3,"partial":false}').kind).toBe('file');
    expect(parseRemoteLine('{"done":true,"rc":0}')).toEqual({ kind: 'done', line: { done: true, rc: 0 } });
    expect(parseRemoteLine('{"error":"sha256 mismatch","reason":"checksum"}').kind).toBe('error');
    expect(parseRemoteLine('{"job":"a","kind":"setup","state":"running","rc":null,"size":0}').kind).toBe('job');
  });

  it('answers SSH_ERROR for anything outside it, without echoing the text', () => {
    for (const text of ['hello', '[]', '{"step":"three","of":6,"name":"x"}', '{"unknown":1}', 'null']) {
      try {
        parseRemoteLine(text);
        expect.unreachable();
      } catch (error) {
        expect(error).toMatchObject({ code: 'SSH_ERROR', details: { reason: 'protocol' } });
        expect((error as Error).message).not.toContain(text);
      }
    }
  });
});
