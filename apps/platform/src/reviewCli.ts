/**
 * `commerce review list|approve|reject`: the risk review queue (docs/risk.md) through the running platform's admin
 * routes (GET /admin/reviews, POST /admin/reviews/{orderId}/approve|reject).
 */
export const REVIEW_HELP = `commerce review list [--json]        orders UNDER_REVIEW with their risk score, reasons and deadline
commerce review approve ORDER_ID     payment captures the order and the saga goes on
commerce review reject ORDER_ID      the order is cancelled with its reasons and its stock released`;

export interface ReviewItem {
  orderId: string;
  customerId: string;
  status: string;
  totalAmount: number;
  currency: string;
  score: number;
  reasons: string[];
  decision: string;
  reviewDueAt: string | null;
}

export interface ReviewCliDeps {
  json: boolean;
  api(method: string, path: string): Promise<unknown>;
  usage(message: string): Error;
  out: { write(s: string): unknown };
}

export function reviewLine(r: ReviewItem): string {
  return `${r.orderId}  ${r.customerId.padEnd(12)} ${String(r.totalAmount).padStart(10)} ${r.currency}  score ${r.score}  due ${r.reviewDueAt ?? '-'}\n    ${r.reasons.join('\n    ')}`;
}

export async function runReviewCli(args: readonly string[], d: ReviewCliDeps): Promise<number> {
  const [action, orderId] = args;
  const print = (value: unknown, text: string) => d.out.write(`${d.json ? JSON.stringify(value) : text}\n`);
  if (action === 'list') {
    const page = (await d.api('GET', '/admin/reviews')) as { items: ReviewItem[] };
    print(page, page.items.length === 0 ? 'no order under review' : page.items.map(reviewLine).join('\n'));
    return 0;
  }
  if ((action === 'approve' || action === 'reject') && orderId) {
    const r = (await d.api('POST', `/admin/reviews/${encodeURIComponent(orderId)}/${action}`)) as ReviewItem;
    print(r, `${orderId}: ${action === 'approve' ? 'approved' : 'rejected'}, order now ${r.status}`);
    return 0;
  }
  throw d.usage(`review: expected list, approve ORDER_ID or reject ORDER_ID\n${REVIEW_HELP}`);
}
