import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isWebhookSecret, newWebhookSecret, signatureHeader, signWebhook, webhookHeaders } from './webhookSignature.js';

describe('Standard Webhooks signatures', () => {
  // The specification's own example (standard-webhooks spec, "Signature scheme").
  it('matches the reference value for a known secret, id, timestamp and body', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const sig = signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('sends one signature per secret, space-separated, each verifiable by the standardwebhooks library', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(isWebhookSecret(a)).toBe(true);
    const now = new Date();
    const body = '{"id":"e1"}';
    const headers = webhookHeaders([b, a], 'e1', now, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toBe(signatureHeader([b, a], 'e1', Math.floor(now.getTime() / 1000), body));
    for (const secret of [a, b]) expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'e1' });
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });
});
