import { startDistributed } from './lib/platform.js';
import { createRun } from './scenarios.js';

const prof = process.env.PROF_DIR;
const p = await startDistributed({
  services: ['order'],
  envFor: { order: { SAGA_TIMEOUT_MS: '3600000' } },
  nodeArgsFor: prof ? { order: ['--cpu-prof', `--cpu-prof-dir=${prof}/create`] } : {},
});
try {
  await createRun(p.urls.order!, p.adminToken, 8, 2);
  const r = await createRun(p.urls.order!, p.adminToken, 16, 6);
  console.log(r);
} finally {
  await p.stop();
}
