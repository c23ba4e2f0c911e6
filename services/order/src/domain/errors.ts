/** Illegal commands. Expected business outcomes (out of stock, declined) are events, never these. */
export abstract class OrderDomainError extends Error {
  abstract readonly code: string;
}

export interface OrderFieldError {
  /** JSON pointer of the bad field, e.g. `/items/2/quantity`. */
  field: string;
  message: string;
}

/** The order would break a rule of SPEC §4 (empty, too many lines, duplicate product, total overflow…). */
export class InvalidOrderError extends OrderDomainError {
  override readonly name = 'InvalidOrderError';
  readonly code = 'INVALID_ORDER';
  constructor(readonly errors: OrderFieldError[]) {
    super(`invalid order: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  }
}

export class OrderAlreadyExistsError extends OrderDomainError {
  override readonly name = 'OrderAlreadyExistsError';
  readonly code = 'ORDER_ALREADY_EXISTS';
  constructor(readonly orderId: string) {
    super(`order ${orderId} already exists`);
  }
}

export class OrderNotFoundError extends OrderDomainError {
  override readonly name = 'OrderNotFoundError';
  readonly code = 'ORDER_NOT_FOUND';
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist`);
  }
}

/** Cancel of an order that is COMPLETED, already cancelled or final (HTTP 409). */
export class OrderNotCancellableError extends OrderDomainError {
  override readonly name = 'OrderNotCancellableError';
  readonly code = 'ORDER_NOT_CANCELLABLE';
  constructor(
    readonly orderId: string,
    readonly status: string,
  ) {
    super(`order ${orderId} is ${status}: only a PENDING or CONFIRMED order can be cancelled`);
  }
}

/** Retry of a compensation that has not failed (HTTP 409). */
export class CompensationNotRetryableError extends OrderDomainError {
  override readonly name = 'CompensationNotRetryableError';
  readonly code = 'COMPENSATION_NOT_RETRYABLE';
  constructor(
    readonly orderId: string,
    readonly status: string,
  ) {
    super(`order ${orderId} is ${status}: only a COMPENSATION_FAILED order can retry its compensation`);
  }
}

/** A review decision on an order that is not UNDER_REVIEW, or that was already decided the other way (HTTP 409). */
export class OrderNotUnderReviewError extends OrderDomainError {
  override readonly name = 'OrderNotUnderReviewError';
  readonly code = 'ORDER_NOT_UNDER_REVIEW';
  constructor(
    readonly orderId: string,
    readonly status: string,
    readonly decided?: string,
  ) {
    super(
      decided
        ? `order ${orderId} was already ${decided} by its review: the decision cannot change`
        : `order ${orderId} is ${status}: only an UNDER_REVIEW order can be approved or rejected`,
    );
  }
}
