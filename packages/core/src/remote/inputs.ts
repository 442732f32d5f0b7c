import { z } from 'zod';
import { FOLDER_TYPES, hasModelExtension } from '../workflow/model-folders.js';

/**
 * Model folders a download may write to: every folder ComfyUI's loaders read, plus `clip` and `unet`, the older
 * names ComfyUI still maps to `text_encoders` and `diffusion_models`.
 */
export const MODEL_FOLDERS: readonly string[] = [...Object.keys(FOLDER_TYPES).filter((folder) => folder !== 'configs'), 'clip', 'unet'];

export const modelFolderSchema = z.string().refine((value) => MODEL_FOLDERS.includes(value), { message: `expected one of ${MODEL_FOLDERS.join(', ')}` });

// Plain ASCII names only: no separators, quotes or shell syntax, and no look-alikes of them from other scripts.
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+()[\] ,=@-]*$/;

export const modelFileNameSchema = z
  .string()
  .max(255)
  .refine((value) => PLAIN_NAME.test(value) && !value.includes('..') && !value.endsWith(' '), {
    message: 'expected a plain file name: letters, digits and _.+-()[] ,=@, no slashes, no "..", no leading dash or dot',
  })
  .refine(hasModelExtension, { message: 'expected a model file extension (.safetensors, .ckpt, .pt, .pth, .bin, ...)' });

export const modelUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => !/\s/.test(value) && ![...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: 'expected a URL without spaces or control characters',
  })
  .refine(
    (value) => {
      const url = parseUrl(value);
      return url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    },
    { message: 'expected an http(s) URL without credentials in it' },
  );

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

export const sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, { message: 'expected 64 hexadecimal digits' })
  .transform((value) => value.toLowerCase());

/** Names of remote jobs: also a folder name on the server. */
export const jobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** Hugging Face and Civitai tokens: the characters they are made of, so one cannot smuggle a header line. */
export const tokenSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,512}$/, { message: 'expected a token of letters, digits, "_", "." and "-"' });

export const modelRequestSchema = z.object({
  url: modelUrlSchema,
  folder: modelFolderSchema,
  filename: modelFileNameSchema,
  sha256: sha256Schema.optional(),
});
export type ModelRequest = z.infer<typeof modelRequestSchema>;
