export * from './asyncapi.js';
export * from './envelope.js';
export * from './events.js';
export * from './validate.js';
