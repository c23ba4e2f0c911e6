import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from './webhookSecrets.js';
import { targetProblem } from './webhookTargets.js';

/** A resolver with fixed answers: names resolving to private addresses without a real DNS. */
const resolver = (answers: Record<string, string[]>) => async (host: string) => {
  const a = answers[host];
  if (!a) throw new Error(`ENOTFOUND ${host}`);
  return a;
};
const dns = resolver({
  'hooks.example.com': ['93.184.215.14'],
  'internal.example.com': ['10.20.30.40'],
  'mixed.example.com': ['93.184.215.14', '192.168.0.9'],
  'metadata.example.com': ['169.254.169.254'],
  'v6local.example.com': ['fd00::1'],
});
const strict = { allowInsecure: false, allowPrivateNetworks: false };

describe('webhook targets at registration', () => {
  it.each([
    ['https://hooks.example.com/in', strict, undefined],
    ['http://hooks.example.com/in', strict, 'https-required'],
    ['https://internal.example.com/in', strict, 'private-address'],
    ['https://mixed.example.com/in', strict, 'private-address'],
    ['https://metadata.example.com/', strict, 'metadata-address'],
    ['https://v6local.example.com/', strict, 'private-address'],
    ['https://nowhere.example.com/', strict, 'unresolvable-host'],
    ['https://127.0.0.1/', strict, 'loopback-address'],
    ['https://[::1]:8443/', strict, 'loopback-address'],
    ['https://169.254.169.254/latest/meta-data', strict, 'metadata-address'],
    ['https://internal.example.com/in', { allowInsecure: false, allowPrivateNetworks: true }, undefined],
    ['http://127.0.0.1:9/', { allowInsecure: true, allowPrivateNetworks: true }, undefined],
    ['https://nowhere.example.com/', { allowInsecure: false, allowPrivateNetworks: true }, 'unresolvable-host'],
  ] as const)('%s %j → %s', async (url, policy, rule) => {
    expect(await targetProblem(url, policy, dns)).toBe(rule);
  });
});

describe('secrets at rest', () => {
  it('round-trips with the key, and fails naming the setting with another key', () => {
    const key = randomBytes(32);
    const stored = encryptSecret(key, 'whsec_abc');
    expect(stored).not.toContain('whsec_abc');
    expect(encryptSecret(key, 'whsec_abc')).not.toBe(stored);
    expect(decryptSecret(key, stored)).toBe('whsec_abc');
    expect(() => decryptSecret(randomBytes(32), stored)).toThrow(/WEBHOOK_SECRET_KEY/);
  });
});
