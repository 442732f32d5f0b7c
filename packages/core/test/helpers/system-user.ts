import { execFileSync } from 'node:child_process';
import { chown } from 'node:fs/promises';
import { userInfo } from 'node:os';

/** A user of this machine that a test server runs as. */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** A user by name; throws when there is none. */
export function systemUser(name: string): SystemUser {
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

/** The tests' own user; when they run as root, the unprivileged user `forRoot` answers (servers must not run as root). */
export function unprivilegedUser(forRoot: () => SystemUser): SystemUser {
  const me = userInfo();
  return me.uid === 0 ? forRoot() : { name: me.username, uid: me.uid, gid: me.gid };
}

/** Hands a file the tests made to `user`: needed only when the tests run as root, since otherwise it is theirs. */
export async function giveTo(user: SystemUser, path: string): Promise<void> {
  if (userInfo().uid === 0) await chown(path, user.uid, user.gid);
}
