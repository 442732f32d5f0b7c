/**
 * An attached ComfyUI's URL may carry `user:password@` for a basic-auth proxy in front of it. The credential is
 * taken out of the URL and stored apart, so that the URL can be shown, logged and put into reasons as it is.
 */
export function splitComfyUrl(raw: string): { url: string; basicAuth: string | null } {
  // Without an `@` there is no credential to take out; every server view passes here, and parsing is the cost.
  if (!raw.includes('@')) return { url: raw, basicAuth: null };
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw, basicAuth: null };
  }
  if (!parsed.username && !parsed.password) return { url: raw, basicAuth: null };
  const basicAuth = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString().replace(/\/+$/, ''), basicAuth };
}

/** Any `scheme://user:password@` in a text, without its credential: for what a record written before kept. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1');
}
