import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';

export interface ServedRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

/**
 * A loopback HTTP server standing in for Hugging Face and GitHub: model files with Range support, a bare git
 * repository served over git's dumb HTTP protocol, and faults on request (a response cut midway, a slow one).
 */
export class FileServer {
  readonly requests: ServedRequest[] = [];
  /** GETs of model files being answered right now, and the most there ever were at once. */
  active = 0;
  maxActive = 0;
  readonly #files = new Map<string, Buffer>();
  readonly #cuts = new Map<string, number>();
  #chunkDelayMs = 0;
  #held: { released: Promise<void>; release: () => void } | null = null;
  #server: Server | undefined;
  #root = '';
  url = '';

  static async start(root: string): Promise<FileServer> {
    const server = new FileServer();
    server.#root = root;
    server.#server = createServer((req, res) => void server.#answer(req, res));
    await new Promise<void>((resolve) => server.#server!.listen(0, '127.0.0.1', resolve));
    server.url = `http://127.0.0.1:${(server.#server.address() as { port: number }).port}`;
    return server;
  }

  /** Serves `body` at `/models/<name>` and answers its URL. */
  addModel(name: string, body: Buffer): string {
    this.#files.set(`/models/${name}`, body);
    return `${this.url}/models/${name}`;
  }

  /** The next GET of `path` sends `bytes` bytes of the body and then drops the connection. */
  cutNext(url: string, bytes: number): void {
    this.#cuts.set(new URL(url).pathname, bytes);
  }

  /** Sends model bodies in 64 KiB chunks this far apart, so downloads stay running for a while. */
  throttle(chunkDelayMs: number): void {
    this.#chunkDelayMs = chunkDelayMs;
  }

  /**
   * Model bodies wait, once their GET counts as active, until `release()`: a test sees how many downloads run at
   * once without racing their starts against their ends.
   */
  hold(): void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#held = { released, release };
  }

  release(): void {
    this.#held?.release();
    this.#held = null;
  }

  async close(): Promise<void> {
    this.release();
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push({ method: req.method ?? '', path, range: req.headers.range, authorization: req.headers.authorization });
    const body = this.#files.get(path);
    if (body) return this.#model(req, res, path, body);
    // Everything else comes from the root folder (the bare repository of the dumb HTTP protocol).
    const file = normalize(join(this.#root, path));
    if (!file.startsWith(this.#root)) return void res.writeHead(404).end();
    try {
      const content = await readFile(file);
      res.writeHead(200, { 'content-length': content.length }).end(req.method === 'HEAD' ? undefined : content);
    } catch {
      res.writeHead(404).end();
    }
  }

  async #model(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (from >= body.length && from > 0) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    const part = body.subarray(from);
    res.writeHead(from > 0 ? 206 : 200, {
      'content-length': part.length,
      'accept-ranges': 'bytes',
      ...(from > 0 ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const cut = this.#cuts.get(path);
    this.#cuts.delete(path);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.#held) await this.#held.released;
      const limit = cut ?? part.length;
      for (let at = 0; at < limit && !res.destroyed; at += 65536) {
        const chunk = part.subarray(at, Math.min(limit, at + 65536));
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        if (this.#chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, this.#chunkDelayMs));
      }
      if (cut !== undefined) res.socket?.destroy();
      else res.end();
    } finally {
      this.active--;
    }
  }
}

/** A body of `size` pseudo-random bytes and its sha256. */
export function modelBody(size: number, seed = 1): { body: Buffer; sha256: string } {
  const body = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    body[i] = x >>> 24;
  }
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * A bare git repository standing in for ComfyUI, in `<root>/comfy.git`, ready for the dumb HTTP protocol: a
 * main.py that answers /system_stats after `startDelayS` seconds, an empty requirements.txt and a models folder.
 */
export async function comfyRepository(root: string, startDelayS = 0): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'comfy-vast-repo-'));
  await writeFile(
    join(work, 'main.py'),
    [
      'import http.server, sys, time',
      `time.sleep(${startDelayS})`,
      "port = int(sys.argv[sys.argv.index('--port') + 1])",
      'class Handler(http.server.BaseHTTPRequestHandler):',
      '    def do_GET(self):',
      "        self.send_response(200); self.send_header('content-type', 'application/json'); self.end_headers(); self.wfile.write(b'{}')",
      '    def log_message(self, *args): pass',
      "http.server.HTTPServer(('127.0.0.1', port), Handler).serve_forever()",
      '',
    ].join('\n'),
  );
  await writeFile(join(work, 'requirements.txt'), '# the stand-in needs nothing\n');
  await mkdir(join(work, 'models', 'checkpoints'), { recursive: true });
  await writeFile(join(work, 'models', 'checkpoints', 'put_checkpoints_here'), '');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'ignore' });
  git(work, 'init', '-q');
  git(work, 'add', '-A');
  git(work, '-c', 'user.name=comfy-vast', '-c', 'user.email=tests@comfy-vast.invalid', 'commit', '-q', '-m', 'stand-in');
  const bare = join(root, 'comfy.git');
  git(work, 'clone', '-q', '--bare', work, bare);
  git(bare, 'update-server-info');
  await rm(work, { recursive: true, force: true });
  return bare;
}

/** A TCP relay in front of a server, whose connections a test can cut at once, as a network failure would. */
export class Relay {
  readonly #sockets = new Set<Socket>();
  connections = 0;
  #server = createTcpServer();
  port = 0;

  static async start(targetPort: number): Promise<Relay> {
    const relay = new Relay();
    relay.#server = createTcpServer((socket) => {
      relay.connections++;
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [socket, upstream]) {
        relay.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          relay.#sockets.delete(s);
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    relay.port = (relay.#server.address() as { port: number }).port;
    return relay;
  }

  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** A system python3 the test user can run (the one on PATH may live in root's home). */
export function systemPython(): string {
  for (const path of ['/usr/bin/python3', '/usr/local/bin/python3']) {
    try {
      execFileSync(path, ['-c', 'import venv'], { stdio: 'ignore' });
      return path;
    } catch {
      // try the next
    }
  }
  throw new Error('These tests need python3 with its venv module (Debian: apt-get install python3-venv).');
}
