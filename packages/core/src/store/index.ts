export * from './store.js';
export { MemoryStore } from './memory-store.js';
export { MemoryCollection, type CollectionChange } from './memory-collection.js';
