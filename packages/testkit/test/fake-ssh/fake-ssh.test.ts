import { sshKeyPair, splitWords, startFakeSsh, VirtualHost } from '@comfy-vast/testkit';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';

describe('splitWords', () => {
  it('reads the quoting the library produces, and nothing else', () => {
    expect(splitWords(`'sh' '.comfy-vast/remote.sh' 'models' '--models' 'it'\\''s'`)).toEqual(['sh', '.comfy-vast/remote.sh', 'models', '--models', "it's"]);
    expect(splitWords(`'a b' '$(x)'`)).toEqual(['a b', '$(x)']);
    for (const line of ['sh x; touch y', 'sh $(x)', 'sh `x`', "sh 'open", 'a && b']) expect(splitWords(line)).toBeNull();
  });
});

describe('VirtualHost', () => {
  it('answers a listing of its virtual model folder in the line protocol', async () => {
    const host = new VirtualHost();
    host.addModel('checkpoints', 'a.safetensors', 10);
    host.addModel('loras', 'b.safetensors', 5, true);
    let out = '';
    const rc = await host.run(['models', '--models', '/m'], Promise.resolve(''), (text) => ((out += text), true), new Promise(() => undefined));
    expect(rc).toBe(0);
    expect(out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { folder: 'checkpoints', name: 'a.safetensors', bytes: 10, partial: false },
      { folder: 'loras', name: 'b.safetensors', bytes: 5, partial: true },
      { done: true, rc: 0 },
    ]);
  });
});

describe('startFakeSsh', () => {
  it('lets in only the authorized key, and refuses a command it cannot read with exit 127', async () => {
    const key = sshKeyPair();
    const fake = await startFakeSsh({ authorizedKey: key.public });
    const connect = (privateKey: string) =>
      new Promise<ssh2.Client>((resolve, reject) => {
        const client = new ssh2.Client();
        client.on('ready', () => resolve(client)).on('error', reject);
        client.connect({ host: '127.0.0.1', port: fake.port, username: 'root', privateKey });
      });
    try {
      await expect(connect(sshKeyPair().private)).rejects.toThrow(/authentication/i);
      const client = await connect(key.private);
      const code = await new Promise<number>((resolve, reject) =>
        client.exec('rm -rf /', (error, stream) => {
          if (error) return reject(error);
          stream.resume();
          stream.stderr.resume();
          stream.on('exit', (c: number) => resolve(c));
        }),
      );
      expect(code).toBe(127);
      client.end();
    } finally {
      await fake.close();
    }
  });
});
