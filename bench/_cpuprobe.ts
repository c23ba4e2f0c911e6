import { readdirSync, readFileSync } from 'node:fs';
import { seed, startDistributed } from './lib/platform.js';
import { sagaRun, watchFinals } from './scenarios.js';

const rate = Number(process.argv[2] ?? 100);
function sample(): Map<string, number> {
  const m = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const t = Number(f[11]) + Number(f[12]);
      let name = comm;
      if (comm === 'node') {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        name = /main\.ts (\w+)/.exec(cmd)?.[1] ?? (cmd.includes('_cpuprobe') ? 'loadgen' : 'node-other');
      }
      if (comm.startsWith('postgres') || comm.startsWith('postmaster')) name = 'postgres';
      m.set(name, (m.get(name) ?? 0) + t);
    } catch {}
  }
  return m;
}
const prof = process.env.PROF_DIR;
const p = await startDistributed({
  services: ['order', 'inventory', 'payment'],
  nodeArgsFor: prof
    ? {
        order: ['--cpu-prof', `--cpu-prof-dir=${prof}/order`],
        inventory: ['--cpu-prof', `--cpu-prof-dir=${prof}/inventory`],
      }
    : {},
});
const watcher = await watchFinals(p.amqpUrl);
try {
  await seed(p.urls, p.adminToken);
  await sagaRun(p.urls.order!, p.adminToken, watcher.finals, 10, 2);
  const a = sample();
  const t0 = Date.now();
  const r = await sagaRun(p.urls.order!, p.adminToken, watcher.finals, rate, 8, 20000);
  const b = sample();
  const secs = (Date.now() - t0) / 1000;
  console.log('rate', rate, 'p50', r.latency.p50, 'p99', r.latency.p99, 'wall s', secs.toFixed(1));
  const rows = [...b]
    .map(([k, v]) => [k, (v - (a.get(k) ?? 0)) / 100 / secs] as const)
    .filter(([, c]) => c > 0.01)
    .sort((x, y) => y[1] - x[1]);
  for (const [k, c] of rows) console.log(k.padEnd(20), (c * 100).toFixed(1) + '% of one core');
} finally {
  await watcher.close();
  await p.stop();
}
