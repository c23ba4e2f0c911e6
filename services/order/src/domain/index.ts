export * from './errors.js';
export * from './order.js';
export * from './orderSaga.js';
