import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import { sshKeyPair } from './keys.js';
import { VirtualHost, type VirtualHostOptions } from './virtual-host.js';
import { splitWords } from './words.js';

export interface FakeSshOptions extends VirtualHostOptions {
  /** The one public key (OpenSSH line) allowed to log in; any key when neither this nor `authorizedKeys` is given. */
  authorizedKey?: string;
  /** The public keys (OpenSSH lines) allowed to log in, read again at each login. */
  authorizedKeys?: () => readonly string[];
  /** The virtual host to serve, kept by the caller across servers; a new one from the other options when absent. */
  host?: VirtualHost;
  /** The host key (OpenSSH private key text); a fresh ed25519 key when absent. */
  hostKey?: string;
  port?: number;
}

export interface FakeSsh {
  port: number;
  /** `SHA256:...` of the host key, as ssh-keygen prints it. */
  hostKeyFingerprint: string;
  host: VirtualHost;
  /** Commands received, in order (command lines as sent). */
  commands: string[];
  /** Connections opened so far. */
  connections: number;
  /** Drops every open connection, as a network failure would. */
  dropConnections(): void;
  close(): Promise<void>;
}

// The runner's two housekeeping commands (see core's remote-commands.ts) and its one way of running remote.sh.
const HASH = /^cat '([^']+)\/remote\.sh' 2>\/dev\/null \| sha256sum$/;
const UPLOAD = /^umask 077 && mkdir -p '[^']+' && cat > '[^']+\/remote\.sh\.new' && mv -f '[^']+' '[^']+'$/;

/**
 * An SSH server on loopback that speaks remote.sh's line protocol natively over a virtual model folder, so a
 * simulated server runs setup, listings and downloads with no shell behind it.
 */
export async function startFakeSsh(options: FakeSshOptions = {}): Promise<FakeSsh> {
  const hostKey = options.hostKey ?? sshKeyPair().private;
  const parsedHostKey = ssh2.utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error) throw parsedHostKey;
  const hostPublic = (Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey)!.getPublicSSH();
  if (options.authorizedKey !== undefined && parsePublic(options.authorizedKey) === undefined) throw new Error('authorizedKey is not a public key');
  const authorizedKeys = options.authorizedKey === undefined ? options.authorizedKeys : () => [options.authorizedKey!];

  const host = options.host ?? new VirtualHost(options);
  const clients = new Set<Connection>();
  const sockets = new Set<Socket>();
  const state = { commands: [] as string[], connections: 0 };

  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    state.connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      if (authorizedKeys) {
        const key = authorizedKeys().map(parsePublic).find((k) => k !== undefined && sameKey(k, ctx.key));
        if (!key) return ctx.reject();
        if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject();
      }
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec();
          state.commands.push(info.command);
          void execute(host, info.command, channel);
        });
      });
    });
  });
  // Our own listener hands each socket to ssh2, so a test can cut the sockets themselves.
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, '127.0.0.1', () => {
      listener.off('error', reject);
      resolve();
    });
  });

  return {
    port: (listener.address() as AddressInfo).port,
    hostKeyFingerprint: `SHA256:${createHash('sha256').update(hostPublic).digest('base64').replace(/=+$/, '')}`,
    host,
    commands: state.commands,
    get connections() {
      return state.connections;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      host.close();
      for (const client of clients) client.end();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listener.close(resolve));
    },
  };
}

/** One OpenSSH public key line parsed, or undefined when it is not one ssh2 reads. */
function parsePublic(line: string): ParsedKey | undefined {
  const parsed = ssh2.utils.parseKey(line.trim());
  if (parsed instanceof Error) return undefined;
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

function sameKey(key: ParsedKey, offered: { algo: string; data: Buffer }): boolean {
  const wanted = key.getPublicSSH();
  return offered.algo === key.type && offered.data.length === wanted.length && timingSafeEqual(offered.data, wanted);
}

async function execute(host: VirtualHost, command: string, channel: ServerChannel): Promise<void> {
  const chunks: Buffer[] = [];
  const stdin = new Promise<string>((resolve) => {
    channel.on('data', (chunk: Buffer) => chunks.push(chunk));
    channel.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const closed = new Promise<void>((resolve) => channel.on('close', () => resolve()));
  const out = (text: string) => channel.write(text);
  let gone = false;
  void closed.then(() => (gone = true));
  const exit = (code: number) => {
    if (gone) return;
    channel.exit(code);
    channel.end();
  };

  if (HASH.test(command)) {
    out(`${host.scriptHash}  -\n`);
    return exit(0);
  }
  if (UPLOAD.test(command)) {
    host.script = await stdin;
    return exit(0);
  }
  const words = splitWords(command);
  if (!words || words[0] !== 'sh' || !words[1]?.endsWith('/remote.sh')) {
    channel.stderr.write(`fake ssh: cannot run ${JSON.stringify(command.slice(0, 200))}\n`);
    return exit(127);
  }
  const code = await host.run(words.slice(2), stdin, out, closed);
  exit(code);
}
