export * from './errors.js';
export * from './order.js';
export * from './orderSaga.js';
export * from './returnState.js';
export * from './returns.js';
export * from './review.js';
export * from './reviewSaga.js';
