import { afterEach, describe, expect, it } from 'vitest';
import { requestLogger, requestLoggingOff } from '../src/http/request-logger.js';
import { createLogger } from '../src/logger.js';
import { LogCapture, raw, startTestServer, type TestServer } from './helpers.js';

const lines = (logs: LogCapture) => logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('request logger', () => {
  it('writes with the request id at the levels the server logs, and nothing below', () => {
    const logs = new LogCapture();
    const log = requestLogger(createLogger('warn', logs), { reqId: 'req-7' }, {});
    log.info('not written');
    log.debug({ detail: 1 }, 'not written either');
    log.error({ err: new Error('boom') }, 'request failed');
    log.child({ component: 'x' }).warn('from a child');
    expect(lines(logs)).toMatchObject([
      { reqId: 'req-7', msg: 'request failed', err: { message: 'boom' } },
      { reqId: 'req-7', component: 'x', msg: 'from a child' },
    ]);
    expect(log.level).toBe('warn');
  });

  it('logs every request only at debug and below', () => {
    expect([requestLoggingOff(createLogger('info', new LogCapture()))(), requestLoggingOff(createLogger('debug', new LogCapture()))()]).toEqual([true, false]);
  });
});

describe('request lines of a running server', () => {
  let server: TestServer | undefined;
  afterEach(async () => server?.stop());

  for (const [level, logged] of [['info', false], ['debug', true]] as const) {
    it(`are ${logged ? '' : 'not '}written at ${level}`, async () => {
      server = await startTestServer({ COMFY_VAST_LOG_LEVEL: level });
      const before = server.logs.lines.length;
      expect((await raw(server, '/api/health')).status).toBe(200);
      const written = lines(server.logs).slice(before).filter((l) => l['msg'] === 'incoming request' || l['msg'] === 'request completed');
      expect(written.length).toBe(logged ? 2 : 0);
      if (logged) expect(written[0]!['reqId']).toBe(written[1]!['reqId']);
    });
  }
});
