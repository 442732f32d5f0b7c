import { createHash } from 'node:crypto';

/**
 * The baselines' Bearer check, as the API makes it: the header parsed, the token hashed as tokens are stored, a
 * map lookup. Answers whether a request's `authorization` header carries `token`.
 */
export function bearerCheck(token: string): (header: string | undefined) => boolean {
  const hash = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
  const users = new Map([[hash(token), { id: 1 }]]);
  return (header) => {
    const sent = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    return sent !== undefined && users.has(hash(sent));
  };
}
