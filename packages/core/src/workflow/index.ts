export * from './api-schema.js';
export * from './ui-schema.js';
export * from './object-info.js';
export * from './parse.js';
export * from './warnings.js';
export { toApiPrompt, wrapValue, type ToApiPromptOptions, type ConversionResult, type UnknownNode } from './convert.js';
