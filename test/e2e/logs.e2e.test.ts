/**
 * Logs people can read (issue 22): JSON lines in production with the level as a label (`"level":"info"`), so that
 * CloudWatch and Loki filter on it; readable lines (pino-pretty) on a terminal — forced here with LOG_FORMAT=pretty,
 * since a test's pipe is no terminal — with the start-up summary whole, between rules, apart from the log lines.
 * The embedded default (PGlite, in-process bus): no outside service needed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type PlatformProcess, startProcess, tempDataDir } from '../support/platform.js';
import { waitFor } from '../support/services.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

describe('log format', () => {
  const dirs: ReturnType<typeof tempDataDir>[] = [];
  const procs: PlatformProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.stop().catch(() => p.kill());
    for (const d of dirs) d.remove();
  });
  const start = async (env: Record<string, string>) => {
    const data = tempDataDir();
    dirs.push(data);
    const p = await startProcess('all', { DATA_DIR: data.dir, LOG_LEVEL: 'info', ...env }, { timeoutMs: 90_000 });
    procs.push(p);
    return p;
  };

  let jsonProcess: PlatformProcess;

  it('JSON by default off a terminal, with the level as a label', async () => {
    const p = await start({ CLOUDWATCH_EMF_INTERVAL_MS: '1000', CLOUDWATCH_METRICS_NAMESPACE: 'LogsTest' });
    jsonProcess = p;
    const json = p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && !l.startsWith('{"_aws"'))
      .map((l) => JSON.parse(l) as { level?: unknown });
    expect(json.length).toBeGreaterThan(0);
    for (const line of json) expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
    expect(json.some((l) => l.level === 'info')).toBe(true);
  }, 120_000);

  it('CLOUDWATCH_EMF_INTERVAL_MS, CLOUDWATCH_METRICS_NAMESPACE: EMF lines with the outbox lag of every service', async () => {
    const emf = await waitFor(
      () => {
        const docs = jsonProcess
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{"_aws"'))
          .map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Namespace: string }[] }; Service?: string });
        const services = new Set(docs.map((d) => d.Service).filter(Boolean));
        return services.size === 3 ? docs : undefined;
      },
      { timeoutMs: 15_000, what: 'EMF lines of the three services' },
    );
    expect(emf[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('LogsTest');
    expect(emf.find((d) => d.Service === 'order')).toMatchObject({ OutboxLagSeconds: expect.any(Number) });
  });

  it('LOG_FORMAT=pretty: readable lines with level names, the start-up summary kept whole and apart', async () => {
    const p = await start({ LOG_FORMAT: 'pretty' });
    const lines = plain(p.output()).split('\n');
    expect(lines.filter((l) => l.startsWith('{"'))).toEqual([]);
    expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(platform\): /.test(l))).toBe(true);
    // The summary: one block between two rules, nothing of the logs inside it.
    const rules = lines.flatMap((l, i) => (/^─{20,}$/.test(l) ? [i] : []));
    expect(rules).toHaveLength(2);
    const block = lines.slice((rules[0] as number) + 1, rules[1]);
    expect(block.some((l) => /Commerce Platform — embedded default/.test(l))).toBe(true);
    expect(block.filter((l) => /^\s+(order|inventory|payment)\s+http:\/\//.test(l))).toHaveLength(3);
    expect(block.filter((l) => /^\[\d\d:\d\d:\d\d/.test(l))).toEqual([]);
  }, 120_000);
});
