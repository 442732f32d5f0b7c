/** A failure explained for a person: what happened, what to do, and the action to offer. */
export interface Explained {
  message: string;
  action?: 'signIn' | 'openSettings' | 'selectServer' | 'startServer';
}

interface ApiFailure {
  code?: string;
  status?: number;
  message?: string;
  retryAfter?: number | null;
  details?: Record<string, unknown>;
}

/** Turns any failure of an API call into a message that says what to do next. */
export function explainFailure(error: unknown, apiUrl: string): Explained {
  const e = (error ?? {}) as ApiFailure;
  const text = e.message ?? String(error);
  switch (e.code) {
    case 'CONNECTION_FAILED':
      return { message: `Cannot reach the comfy-vast server at ${apiUrl}. Start it (npx comfy-vast serve) or correct the "comfyVast.apiUrl" setting.`, action: 'openSettings' };
    case 'UNAUTHORIZED':
      return { message: `The comfy-vast server at ${apiUrl} refused the token. Run "Comfy-Vast: Sign In" with a valid API token.`, action: 'signIn' };
    case 'NOT_SIGNED_IN':
      return { message: `Not signed in to the comfy-vast server at ${apiUrl}. Run "Comfy-Vast: Sign In".`, action: 'signIn' };
    case 'RATE_LIMIT_EXCEEDED':
      return { message: `Too many requests: the server asks to wait${e.retryAfter ? ` ${e.retryAfter} s` : ''} before trying again.` };
    case 'SERVER_NOT_RUNNING':
      return { message: `The selected GPU server is not running. Start it from the Servers view, then generate again.`, action: 'startServer' };
    case 'SERVER_NOT_FOUND':
      return { message: `The selected GPU server no longer exists. Pick another one.`, action: 'selectServer' };
    case 'WORKFLOW_INVALID':
      return { message: `The workflow is invalid: ${text}. Fix the problems listed in the Problems panel.` };
    case 'MODEL_NOT_FOUND':
      return { message: `${text}. Download the missing model to the server first.` };
    case 'BUDGET_EXCEEDED':
      return { message: `${text}. Raise your monthly budget or stop a server.` };
  }
  if (/out of memory/i.test(text)) {
    return { message: `The GPU ran out of memory (${text}). Lower the width, height or batch size, or use a server with more VRAM.` };
  }
  return { message: text };
}
