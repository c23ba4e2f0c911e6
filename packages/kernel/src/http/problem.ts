/** An RFC 9457 problem the HTTP layer answers as application/problem+json. Throw it from any route. */
export interface FieldError {
  /** JSON pointer or name of the bad field, e.g. `/items/0/quantity`. */
  field: string;
  message: string;
  /** Where the field is, when not in the body: `querystring`, `params` or `headers`. */
  in?: string;
}

export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    /** Extra RFC 9457 members, e.g. `checks` of a readiness problem. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
  }

  get type(): string {
    return `https://commerce.example/problems/${this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  }

  static badRequest(detail: string, errors?: FieldError[]) {
    return new HttpProblem(400, 'Bad Request', detail, errors);
  }
  static notFound(detail: string) {
    return new HttpProblem(404, 'Not Found', detail);
  }
  static conflict(detail: string) {
    return new HttpProblem(409, 'Conflict', detail);
  }
  static unprocessable(detail: string, errors?: FieldError[]) {
    return new HttpProblem(422, 'Unprocessable Content', detail, errors);
  }
  static unauthorized(detail: string) {
    return new HttpProblem(401, 'Unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });
  }
  static forbidden(detail: string) {
    return new HttpProblem(403, 'Forbidden', detail);
  }
}
