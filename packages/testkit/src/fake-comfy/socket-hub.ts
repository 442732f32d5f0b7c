import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';

interface Client {
  ws: WebSocket;
  supportsPreviewMetadata: boolean;
}

/** What `send_sync` does with a message: one socket by sid, or everyone when the sid is null. */
export class SocketHub {
  readonly #clients = new Map<string, Client>();

  /**
   * Registers a socket as ComfyUI's `websocket_handler` does. Like the real server (issue #16010), when any
   * socket of a sid closes the sid is unregistered, even if a newer socket has taken it over meanwhile.
   */
  attach(ws: WebSocket, requestedSid: string | null, serverFlags: Record<string, unknown>, onOpen: (sid: string) => void): string {
    const sid = requestedSid ?? randomUUID().replaceAll('-', '');
    const client: Client = { ws, supportsPreviewMetadata: false };
    this.#clients.set(sid, client);
    let first = true;
    ws.on('message', (data, isBinary) => {
      if (!first || isBinary) return;
      first = false;
      try {
        const msg = JSON.parse(String(data)) as { type?: string; data?: { supports_preview_metadata?: boolean } };
        if (msg.type !== 'feature_flags') return;
        client.supportsPreviewMetadata = msg.data?.supports_preview_metadata === true;
        this.#send(client, JSON.stringify({ type: 'feature_flags', data: serverFlags }));
      } catch {
        // Only a first frame that is a feature_flags message means anything; anything else is ignored.
      }
    });
    ws.on('close', () => this.#clients.delete(sid));
    onOpen(sid);
    return sid;
  }

  /** A JSON event to one sid (dropped when it is not connected) or, with a null sid, to all. */
  sendJson(type: string, data: unknown, sid: string | null): void {
    const text = JSON.stringify({ type, data });
    for (const client of this.#targets(sid)) this.#send(client, text);
  }

  /**
   * A preview: type 4 (with metadata) to clients that negotiated it, type 1 to the others.
   * `imageType` is the MIME type; the type-1 format field is 1 for JPEG and 2 for PNG.
   */
  sendPreview(image: Buffer, imageType: 'image/png' | 'image/jpeg', meta: Record<string, unknown>, sid: string | null): void {
    for (const client of this.#targets(sid)) {
      let frame: Buffer;
      if (client.supportsPreviewMetadata) {
        const json = Buffer.from(JSON.stringify({ ...meta, image_type: imageType }));
        frame = Buffer.concat([u32(4), u32(json.length), json, image]);
      } else {
        frame = Buffer.concat([u32(1), u32(imageType === 'image/jpeg' ? 1 : 2), image]);
      }
      this.#send(client, frame);
    }
  }

  /** A type-3 text frame (`progress_text` in the frontend). */
  sendText(nodeId: string, text: string, sid: string | null): void {
    const id = Buffer.from(nodeId);
    const frame = Buffer.concat([u32(3), u32(id.length), id, Buffer.from(text)]);
    for (const client of this.#targets(sid)) this.#send(client, frame);
  }

  /** Cuts the connection of one sid (or all) without a close handshake, as a proxy or network drop would. */
  drop(sid: string | null): void {
    for (const client of this.#targets(sid)) client.ws.terminate();
  }

  isConnected(sid: string): boolean {
    return this.#clients.has(sid);
  }

  closeAll(): void {
    for (const client of this.#clients.values()) client.ws.terminate();
    this.#clients.clear();
  }

  #targets(sid: string | null): Client[] {
    if (sid === null) return [...this.#clients.values()];
    const client = this.#clients.get(sid);
    return client ? [client] : [];
  }

  #send(client: Client, data: string | Buffer): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(data);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
