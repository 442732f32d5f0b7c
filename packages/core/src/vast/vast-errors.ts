import { ComfyVastError } from '../errors/index.js';

/** What a Vast error body says, whatever its shape: `{error,msg}`, `{message}`, `{detail}` or plain text. */
export interface VastErrorBody {
  /** Vast's error word (`no_such_ask`, `auth_error`, ...), when the body has one. */
  word: string | null;
  message: string;
}

const MAX_MESSAGE = 300;

export function readVastErrorBody(text: string): VastErrorBody {
  const trimmed = text.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { word: null, message: clip(trimmed) };
  }
  if (typeof parsed !== 'object' || parsed === null) return { word: null, message: clip(trimmed) };
  const body = parsed as Record<string, unknown>;
  const word = typeof body.error === 'string' ? body.error.trim() : null;
  const said = [body.msg, body.message, body.detail].find((v) => v !== undefined && v !== null);
  const message = said === undefined ? (word ?? '') : typeof said === 'string' ? said : JSON.stringify(said);
  return { word, message: clip(message.trim()) };
}

/** A bad or under-privileged key: 401, 403, or the 404 + `auth_error` some endpoints answer. */
export function isAuthFailure(status: number, body: VastErrorBody): boolean {
  if (status === 401 || status === 403) return true;
  return status === 404 && (body.word === 'auth_error' || /invalid user key/i.test(body.message));
}

export interface VastCallContext {
  method: string;
  path: string;
}

/** The one error a failed Vast call becomes: VAST_API_ERROR with Vast's status and error word in the details. */
export function vastApiError(status: number, body: VastErrorBody, call: VastCallContext): ComfyVastError {
  const details = { vastStatus: status, vastError: body.word, vastMessage: body.message, method: call.method, path: call.path };
  if (isAuthFailure(status, body)) {
    const why = status === 403 ? 'is not valid or lacks the permission for this call' : 'is not valid (deleted, mistyped or from another account)';
    return new ComfyVastError('VAST_API_ERROR', `Vast.ai rejected the API key: it ${why}. Create or check the key at https://cloud.vast.ai/manage-keys/ (Vast said: ${body.message || status})`, { details: { ...details, auth: true } });
  }
  const word = body.word ? `${body.word}: ` : '';
  return new ComfyVastError('VAST_API_ERROR', `Vast.ai answered ${status} to ${call.method} ${call.path}: ${word}${body.message || 'no message'}`, { details });
}

/** True when an error says the offer was taken or withdrawn between search and rent. */
export function isOfferGone(error: unknown): boolean {
  if (!(error instanceof ComfyVastError) || error.code !== 'VAST_API_ERROR') return false;
  const { vastStatus, vastError } = error.details;
  return vastError === 'no_such_ask' || vastStatus === 409 || vastStatus === 410;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
