export * from './store.js';
export { MemoryStore } from './memory-store.js';
export { MemoryCollection, type CollectionChange } from './memory-collection.js';
export { LowdbStore, type LowdbStoreOptions } from './lowdb-store.js';
export { migrations, type Migration, type StoredData } from './migrations.js';
export { nodeStoreFs, type StoreFs, type WritableFile } from './fs.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
export type { RemoteChange } from './postgres/remote-changes.js';
export { postgresMigrations, type PostgresMigration } from './postgres/migrations.js';
