import { setTimeout as delay } from 'node:timers/promises';
import { ComfyVastError, isComfyVastError, parseOrThrow } from '../errors/index.js';
import type { Collection, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { TokenRecord, UserRecord} from './records.js';
import { tokensCollection, usersCollection, Username } from './records.js';
import { generateToken, hashesEqual, hashToken } from './tokens.js';

export interface IssuedToken {
  id: number;
  /** Shown once, to the caller that asked for it; only its hash is kept. */
  token: string;
  createdAt: string;
}

export interface AdminBootstrap {
  user: UserRecord;
  /** Set when a token was generated on this start (first start without a configured token). */
  generatedToken: string | null;
}

/** Users and their API tokens. Tokens are random, hashed at rest and compared in constant time. */
export class UserService {
  #users: Collection<UserRecord>;
  #tokens: Collection<TokenRecord>;
  #byHash = new Map<string, number>();
  #clock: Clock;
  #logger: Logger;

  constructor(options: { store: Store; clock: Clock; logger?: Logger }) {
    this.#users = options.store.collection(usersCollection);
    this.#tokens = options.store.collection(tokensCollection);
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    for (const t of this.#tokens.all()) this.#byHash.set(t.hash, t.id);
  }

  /**
   * Makes sure the admin user exists and can sign in. With `configuredToken` that token is the admin's
   * (replacing an earlier configured one); without it, a token is generated only when the admin has none.
   */
  async ensureAdmin(configuredToken?: string): Promise<AdminBootstrap> {
    const admin = this.#users.find((u) => u.role === 'admin') ?? (await this.#createAdmin());
    if (configuredToken) {
      const hash = hashToken(configuredToken);
      if (!this.#byHash.has(hash)) {
        for (const old of this.#tokens.filter((t) => t.userId === admin.id && t.source === 'configured')) await this.#removeToken(old);
        // Refused (CONFLICT) only when another process starting at the same moment added the same token: it is there.
        await this.#addToken(admin.id, hash, 'configured').catch((error: unknown) => {
          if (!isComfyVastError(error, 'CONFLICT')) throw error;
        });
      }
      return { user: admin, generatedToken: null };
    }
    if (this.#tokens.find((t) => t.userId === admin.id)) return { user: admin, generatedToken: null };
    const issued = await this.issueToken(admin.id);
    this.#logger.info({ userId: admin.id }, 'generated the admin token');
    return { user: admin, generatedToken: issued.token };
  }

  /** Creates a user with a first token. Usernames are unique, compared without case. */
  async createUser(username: string): Promise<{ user: UserRecord; token: IssuedToken }> {
    const user = await this.#createUser(parseOrThrow(Username, username, 'username'), 'user');
    return { user, token: await this.issueToken(user.id) };
  }

  /** The user a presented token belongs to, or null. */
  authenticate(token: string): UserRecord | null {
    const hash = hashToken(token);
    const id = this.#byHash.get(hash);
    const record = id === undefined ? undefined : this.#tokens.get(id);
    if (!record || !hashesEqual(record.hash, hash)) return null;
    return this.#users.get(record.userId) ?? null;
  }

  /**
   * Tokens another process issued or revoked (ids, already in the store's memory): indexed here, so a token issued
   * through any process signs in on this one; a revoked one would fail anyway (`authenticate` finds no record).
   */
  remoteChanged(tokenIds: readonly number[]): void {
    for (const id of tokenIds) {
      const record = this.#tokens.get(id);
      if (record) this.#byHash.set(record.hash, id);
      else for (const [hash, known] of this.#byHash) if (known === id) this.#byHash.delete(hash);
    }
  }

  getUser(id: number): UserRecord | undefined {
    return this.#users.get(id);
  }

  findByUsername(username: string): UserRecord | undefined {
    const wanted = username.toLowerCase();
    return this.#users.find((u) => u.username.toLowerCase() === wanted);
  }

  listUsers(): UserRecord[] {
    return this.#users.all();
  }

  listTokens(userId: number): Array<Omit<TokenRecord, 'hash'>> {
    return this.#tokens.filter((t) => t.userId === userId).map(({ hash: _hash, ...rest }) => rest);
  }

  async issueToken(userId: number): Promise<IssuedToken> {
    this.#requireUser(userId);
    const token = generateToken();
    const record = await this.#addToken(userId, hashToken(token), 'issued');
    return { id: record.id, token, createdAt: record.createdAt };
  }

  /** Revokes one of the user's tokens; another user's token is reported as missing. */
  async revokeToken(userId: number, tokenId: number): Promise<void> {
    const record = this.#tokens.get(tokenId);
    if (!record || record.userId !== userId) throw new ComfyVastError('NOT_FOUND', `Token ${tokenId} not found`, { details: { tokenId } });
    await this.#removeToken(record);
  }

  #requireUser(userId: number): UserRecord {
    const user = this.#users.get(userId);
    if (!user) throw new ComfyVastError('NOT_FOUND', `User ${userId} not found`, { details: { userId } });
    return user;
  }

  /**
   * The first start's admin. Processes starting together on an empty database race for it: the one refused waits
   * (up to 10 s) for the winner's admin to reach its records, and uses it.
   */
  async #createAdmin(): Promise<UserRecord> {
    try {
      return await this.#createUser('admin', 'admin');
    } catch (error) {
      if (!isComfyVastError(error, 'CONFLICT')) throw error;
      for (let waited = 0; waited < 10_000; waited += 50) {
        const admin = this.#users.find((u) => u.role === 'admin');
        if (admin) return admin;
        // Waiting on the database's change notice, not on the clock: real time, whatever clock the service was given.
        await delay(50);
      }
      throw error;
    }
  }

  async #createUser(username: string, role: UserRecord['role']): Promise<UserRecord> {
    const taken = () => new ComfyVastError('CONFLICT', `A user named "${username}" already exists`, { details: { username } });
    if (this.findByUsername(username)) throw taken();
    try {
      return await this.#users.insert({ username, role, createdAt: new Date(this.#clock.now()).toISOString() });
    } catch (error) {
      // Another process created the name at the same moment (the database's unique index refused this one).
      if (isComfyVastError(error, 'CONFLICT')) throw taken();
      throw error;
    }
  }

  async #addToken(userId: number, hash: string, source: TokenRecord['source']): Promise<TokenRecord> {
    const record = await this.#tokens.insert({ userId, hash, source, createdAt: new Date(this.#clock.now()).toISOString(), lastUsedAt: null });
    this.#byHash.set(hash, record.id);
    return record;
  }

  async #removeToken(record: TokenRecord): Promise<void> {
    this.#byHash.delete(record.hash);
    await this.#tokens.delete(record.id);
  }
}
