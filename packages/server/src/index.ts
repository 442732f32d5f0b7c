export { buildApp, type App, type AppOptions } from './app.js';
export { startServer, type RunningServer, type StartOptions } from './start.js';
export { resolveConfig, ServerConfig, ENV_KEYS } from './config.js';
export { buildOpenApi } from './openapi.js';
export { WebSocketHub, type TopicProvider } from './ws/hub.js';
export { contract, type Contract, type EndpointName } from './contract/index.js';
