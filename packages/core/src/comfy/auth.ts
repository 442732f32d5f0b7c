/**
 * How comfy-vast proves itself to a ComfyUI: Vast's proxy password as a Bearer token, or the user and password of
 * a proxy with basic auth in front of an attached ComfyUI (taken out of the URL it was attached with).
 */
export interface ComfyCredentials {
  token?: string | null;
  /** `user:password`, as it stood in the URL (decoded). */
  basicAuth?: string | null;
}

/** The Authorization header for the credentials, if any; a basic-auth proxy must let the request through first. */
export function comfyAuthHeaders(credentials: ComfyCredentials): Record<string, string> {
  if (credentials.basicAuth) return { authorization: `Basic ${Buffer.from(credentials.basicAuth, 'utf8').toString('base64')}` };
  if (credentials.token) return { authorization: `Bearer ${credentials.token}` };
  return {};
}
