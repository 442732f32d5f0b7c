import { z } from 'zod';
import { tokenSchema } from '../remote/inputs.js';

export const modelCredentialsSchema = z.object({
  huggingface: tokenSchema.optional(),
  civitai: tokenSchema.optional(),
});
export type ModelCredentials = z.infer<typeof modelCredentialsSchema>;

const within = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** The token a URL may receive: the Hugging Face one for huggingface.co only, the Civitai one for civitai.com only. */
export function tokenFor(url: string, credentials: ModelCredentials): string | undefined {
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'https:') return undefined;
  if (within(hostname, 'huggingface.co')) return credentials.huggingface;
  if (within(hostname, 'civitai.com')) return credentials.civitai;
  return undefined;
}
