export * from './errors.js';
export * from './order.js';
export * from './orderSaga.js';
export * from './returnState.js';
export * from './returns.js';
