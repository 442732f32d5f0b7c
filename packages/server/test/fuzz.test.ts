import { homedir, tmpdir } from 'node:os';
import { BUILTIN_WORKFLOWS } from '@comfy-vast/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, ErrorBody, type Endpoint } from '../src/contract/index.js';
import { ADMIN_TOKEN, launchServer, startTestServer, type TestServer } from './helpers.js';
import { arbitraryOf } from './zod-arbitrary.js';

/**
 * The contract fuzzer: every route of the contract, called with bodies, parameters and queries derived from its
 * zod schemas and with hostile shapes, as an admin, as a user and anonymously. Whatever arrives, the answer is
 * never a 5xx, every failure is the standard error body with its timestamp, no message shows a filesystem path,
 * an anonymous caller only ever learns 401, and every success matches the contract's response schema.
 *
 * FUZZ_SEED replays a run; FUZZ_RUNS sets the requests per route.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_205);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 80);

type Caller = 'admin' | 'user' | 'anonymous' | 'bogus';

interface FuzzRequest {
  caller: Caller;
  /** Each path parameter as it goes on the wire (already percent-encoded, or deliberately not). */
  params: Record<string, string>;
  query: string;
  body: { text: string; contentType: string | null } | null;
}

const endpoints = Object.entries(contract) as Array<[string, Endpoint]>;
/** Routes that destroy what they name: they never get the seeded resources the other routes need. */
const DESTRUCTIVE = new Set(['deleteServer', 'stopServer', 'deleteWorkflow', 'revokeToken']);

// ---- hostile shapes --------------------------------------------------------------------------------------

const deepJson = (depth: number, open: string, close: string, leaf = '1') => `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

const hostileBodyText = fc.oneof(
  fc.integer({ min: 257, max: 50_000 }).map((d) => `{"name":"n","prompt":"p","workflow":${deepJson(d, '{"a":', '}')}}`),
  fc.integer({ min: 257, max: 50_000 }).map((d) => deepJson(d, '[', ']')),
  fc.constantFrom(
    '{"__proto__":{"isAdmin":true},"name":"n","workflow":{}}',
    '{"name":"n","workflow":{"1":{"__proto__":{"x":1}}}}',
    '{"constructor":{"prototype":{"polluted":true}},"prompt":"p"}',
    '{"schedule":{"constructor":{"prototype":{"autoStart":true}}}}',
    '{"name":', '{"name":"n"}}', 'null', 'true', '"text"', '[]', '{}', ' ', '\u0000', '{"a":1e999999}', '{"a":"\\ud800"}',
  ),
  fc.integer({ min: 20_000, max: 1_200_000 }).map((n) => JSON.stringify({ name: 'n', prompt: 'x'.repeat(n), workflow: { '1': { class_type: 'X', inputs: { text: 'y'.repeat(n) } } } })),
  fc.string({ maxLength: 200 }),
);

const hostileParam = fc.oneof(
  fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', '..%2F..%2Fetc%2Fpasswd', '..', '%2e%2e', '-1', '0', '1.5', '1e3', '0x10', '9'.repeat(20), 'NaN', '%F0%9F%92%A9', '%C0%AF'),
  fc.integer({ min: 101, max: 2_000 }).map((n) => 'a'.repeat(n)),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);

const hostileQuery = fc.oneof(
  fc.constantFrom('?gpu=%E0%A4%A', '?limit=-1&limit=5', '?cursor=abc', '?__proto__[x]=1', '?constructor[prototype][x]=1', '?gpu[]=a&gpu[]=b', '?%=%', '?a=%ZZ', `?gpu=${'x'.repeat(5_000)}`),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 4 }).map((q) => `?${new URLSearchParams(q).toString()}`),
);

/** A built-in workflow with a few of its values replaced by anything: reaches conversion and analysis deeply. */
const mutatedWorkflow = fc
  .tuple(fc.constantFrom(...BUILTIN_WORKFLOWS.map((w) => w.workflow)), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }))
  .map(([workflow, edits]) => {
    const copy = structuredClone(workflow) as Record<string, any>;
    for (const [nodePick, fieldPick, value] of edits) {
      const nodes = Array.isArray(copy.nodes) ? copy.nodes : Object.values(copy);
      const node = nodes[nodePick % Math.max(1, nodes.length)];
      if (!node || typeof node !== 'object') continue;
      const target = node.inputs && typeof node.inputs === 'object' && fieldPick % 2 === 0 ? node.inputs : node;
      const keys = Object.keys(target);
      if (keys.length > 0) target[keys[fieldPick % keys.length]!] = value;
    }
    return copy;
  });

// ---- requests derived from the contract ----------------------------------------------------------------------

function requestArbitrary(name: string, endpoint: Endpoint, seeded: Record<string, number>): fc.Arbitrary<FuzzRequest> {
  const caller = fc.constantFrom<Caller>('admin', 'user', 'user', 'user', 'anonymous', 'bogus');
  const destructive = DESTRUCTIVE.has(name);
  const known = fc.constantFrom(...Object.values(seeded)).filter((id) => !destructive || !Object.values(seeded).includes(id));
  const paramNames = [...endpoint.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const paramValue = (field: string) =>
    fc.oneof(
      { weight: 3, arbitrary: destructive ? fc.integer({ min: 1, max: 12 }).filter((id) => !Object.values(seeded).includes(id)).map(String) : known.map(String) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 12 }).map(String) },
      { weight: 2, arbitrary: endpoint.params ? arbitraryOf(endpoint.params.shape[field] as never).map((v) => encodeURIComponent(String(v))) : fc.constant('1') },
      { weight: 2, arbitrary: hostileParam },
    );
  const params = paramNames.length === 0 ? fc.constant({}) : fc.record(Object.fromEntries(paramNames.map((p) => [p, paramValue(p)])));

  const derivedQuery = endpoint.query
    ? arbitraryOf(endpoint.query).map((q) => {
        const entries = Object.entries(q as Record<string, unknown>).map(([k, v]): [string, string] => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
        return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
      })
    : fc.constant('');
  const query = fc.oneof({ weight: 4, arbitrary: derivedQuery }, { weight: 1, arbitrary: hostileQuery });

  const json = (value: unknown) => ({ text: JSON.stringify(value) ?? 'null', contentType: 'application/json' as string | null });
  const derivedBody = endpoint.body ? arbitraryOf(endpoint.body) : fc.jsonValue({ maxDepth: 3 });
  const withWorkflow = derivedBody.chain((value) =>
    typeof value === 'object' && value !== null && 'workflow' in value ? mutatedWorkflow.map((workflow) => ({ ...value, workflow })) : fc.constant(value),
  );
  const takesBody = endpoint.method === 'POST' || endpoint.method === 'PUT';
  const body = fc.oneof(
    { weight: takesBody ? 6 : 0, arbitrary: derivedBody.map(json) },
    { weight: takesBody ? 3 : 0, arbitrary: withWorkflow.map(json) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json) },
    { weight: 2, arbitrary: hostileBodyText.map((text) => ({ text, contentType: 'application/json' as string | null })) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.string({ maxLength: 50 }), fc.constantFrom<string | null>('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data', null)).map(([text, contentType]) => ({ text, contentType })),
    },
    { weight: 2, arbitrary: fc.constant(null) },
  );
  return fc.record({ caller, params, query, body });
}

// ---- the run ------------------------------------------------------------------------------------------------

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** An empty parameter turns `/vast-servers/:id` into `/vast-servers/`, another route with another answer. */
const routedAsMeant = (request: FuzzRequest) => Object.values(request.params).every((value) => value !== '');

describe('the contract fuzzer', () => {
  let server: TestServer;
  let userToken: string;
  let userId: number;
  const seeded: Record<string, number> = {};
  beforeAll(async () => {
    server = await startTestServer({
      COMFY_VAST_SIMULATION_SPEED: '100',
      COMFY_VAST_LOG_LEVEL: 'warn',
      // The fuzzer is one user sending thousands of requests; the limits have their own tests.
      COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: 1_000_000, hour: 1_000_000 }, generations: { minute: 1_000_000, hour: 1_000_000, day: 1_000_000 } }),
    });
    const user = await server.admin.createUser({ body: { username: 'fuzzed' } });
    userToken = user.token;
    userId = user.id;
    const alice = server.client(userToken);
    seeded.server = await launchServer(alice);
    seeded.workflow = (await alice.createWorkflow({ body: { name: 'seeded', workflow: BUILTIN_WORKFLOWS[0]!.workflow as Record<string, unknown> } })).id;
    seeded.generation = (await alice.generate({ params: { serverId: seeded.server }, body: { prompt: 'seeded' } })).generationId;
    seeded.userId = userId;
    for (const token of (await alice.me()).tokens) seeded[`token${token.id}`] = token.id;
    for (const token of (await server.admin.me()).tokens) seeded[`adminToken${token.id}`] = token.id;
  }, 60_000);
  afterAll(async () => server?.stop());

  it('answers every route without a 5xx, always in the standard error body, never showing a path', async () => {
    const forbidden = [server.dataDir, tmpdir(), homedir(), process.cwd()];
    const tally = { requests: 0, status: new Map<number, number>(), serverErrors: 0, malformed: 0 };
    const failures: string[] = [];
    const tokens: Record<Caller, string | null> = { admin: ADMIN_TOKEN, user: userToken, anonymous: null, bogus: 'bogus-token-for-fuzzing' };

    for (const [index, [name, endpoint]] of endpoints.entries()) {
      await fc.assert(
        fc.asyncProperty(requestArbitrary(name, endpoint, seeded), async (request) => {
          const path = endpoint.path.replace(/:(\w+)/g, (_m, p: string) => request.params[p] ?? '1');
          const url = `/api${path}${request.query}`;
          const headers: Record<string, string> = {};
          const token = tokens[request.caller];
          if (token) headers.authorization = `Bearer ${token}`;
          if (request.body?.contentType) headers['content-type'] = request.body.contentType;
          const response = await server.app.fastify.inject({ method: endpoint.method, url, headers, payload: request.body?.text });
          tally.requests++;
          tally.status.set(response.statusCode, (tally.status.get(response.statusCode) ?? 0) + 1);

          const problems: string[] = [];
          if (response.statusCode >= 500) {
            tally.serverErrors++;
            problems.push('5xx');
          }
          const anonymous = request.caller === 'anonymous' || request.caller === 'bogus';
          if (anonymous && endpoint.auth !== 'none' && response.statusCode !== 401) problems.push('anonymous caller not answered 401');
          if (response.statusCode >= 400) {
            let body: unknown;
            try {
              body = response.json();
            } catch {
              body = response.body;
            }
            const parsed = ErrorBody.strict().safeParse(body);
            if (!parsed.success || !ISO.test(parsed.data.timestamp)) {
              tally.malformed++;
              problems.push('malformed error body');
            }
            if (forbidden.some((dir) => response.body.includes(dir))) problems.push('a filesystem path in the answer');
          } else if (response.statusCode < 300 && routedAsMeant(request) && endpoint.response !== 'binary' && !endpoint.response.safeParse(response.json()).success) {
            tally.malformed++;
            problems.push('success body outside the contract');
          }
          if (problems.length > 0) {
            failures.push(`${problems.join(', ')}: ${endpoint.method} ${url.slice(0, 200)} as ${request.caller} with ${request.body?.text.slice(0, 200) ?? 'no body'} -> ${response.statusCode} ${response.body.slice(0, 300)}`);
          }
          // A token the fuzzer revoked through the API comes back, so the rest of the run stays authenticated.
          if (!server.comfyVast.users.authenticate(userToken)) userToken = tokens.user = (await server.comfyVast.users.issueToken(userId)).token;
        }),
        { seed: SEED + index, numRuns: RUNS_PER_ROUTE },
      );
    }

    const statuses = [...tally.status.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(
      `fuzz: ${tally.requests.toLocaleString('en-US')} requests over ${endpoints.length} routes, ${tally.serverErrors} 5xx, ${tally.malformed} malformed bodies (seed ${SEED}; statuses ${statuses})`,
    );
    expect(failures.slice(0, 15)).toEqual([]);
    expect(tally.requests).toBe(endpoints.length * RUNS_PER_ROUTE);
  }, 120_000);
});
