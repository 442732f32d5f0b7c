export { UserService, type IssuedToken, type AdminBootstrap } from './user-service.js';
export { UserRecord, TokenRecord, UserRole, Username, usersCollection, tokensCollection } from './records.js';
export { generateToken, hashToken, hashesEqual } from './tokens.js';
