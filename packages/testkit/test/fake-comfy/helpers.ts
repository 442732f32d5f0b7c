import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

/** The recording of a real ComfyUI (see /work/shared/fixtures/comfyui/README.md). */
interface TranscriptEvent {
  kind: 'ws' | 'http';
  conn?: string;
  dir?: string;
  frame?: 'text' | 'binary';
  data?: { type: string; data: Record<string, unknown> };
  decoded?: Record<string, unknown>;
  method?: string;
  path?: string;
  request_body?: unknown;
  status?: number;
  body?: unknown;
}

const transcriptPath = new URL('../../data/comfyui-transcript.json', import.meta.url);
const transcript = JSON.parse(readFileSync(transcriptPath, 'utf8')) as { cases: { name: string; events: TranscriptEvent[] }[] };

export function recordedCase(name: string): TranscriptEvent[] {
  const found = transcript.cases.find((c) => c.name === name);
  if (!found) throw new Error(`no recorded case ${name}`);
  return found.events;
}

/** The text frames one recorded connection received in a case. */
export function recordedFrames(name: string, conn: string): { type: string; data: Record<string, unknown> }[] {
  return recordedCase(name)
    .filter((e) => e.kind === 'ws' && e.conn === conn && e.dir === 'recv' && e.frame === 'text')
    .map((e) => e.data!);
}

export function recordedTypes(name: string, conn: string): string[] {
  return recordedFrames(name, conn).map((f) => f.type);
}

/** The first message of a type that a recorded socket received in a case. */
export function recordedMessage(name: string, type: string): Record<string, unknown> {
  const e = recordedCase(name).find((ev) => ev.dir === 'recv' && ev.data?.type === type);
  if (!e) throw new Error(`no ${type} in ${name}`);
  return e.data!.data;
}

export type Frame = { type: string; data: Record<string, unknown> } | { binary: Buffer };

/** A socket that records every frame, with a way to wait for one. */
export class Probe {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data, isBinary) => {
      const frame: Frame = isBinary ? { binary: data as Buffer } : (JSON.parse(String(data)) as Frame);
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  static async open(baseUrl: string, query = ''): Promise<Probe> {
    const probe = new Probe(`${baseUrl.replace(/^http/, 'ws')}/ws${query}`);
    await probe.next((f) => 'type' in f && f.type === 'status');
    return probe;
  }

  /** The first frame (already received or coming) that matches. */
  next(pred: (f: Frame) => boolean): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }

  /** Resolves when the final `executing {node:null}` of a prompt has arrived. */
  finished(promptId: string): Promise<Frame> {
    return this.next((f) => 'type' in f && f.type === 'executing' && f.data.node === null && f.data.prompt_id === promptId);
  }

  json(): { type: string; data: Record<string, unknown> }[] {
    return this.frames.filter((f): f is { type: string; data: Record<string, unknown> } => 'type' in f);
  }

  close(): void {
    this.ws.close();
  }
}

export async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export { sdxlApiPrompt as sdxlPrompt } from '../../src/index.js';
