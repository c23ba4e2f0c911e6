import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
}

/** The functions with the most self time in the .cpuprofile files of a directory (node --cpu-prof). */
export function topSelfTime(dir: string, top = 15): { file: string; functions: { fn: string; selfPct: number }[] }[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return files.map((file) => {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const by = new Map<string, number>();
    let total = 0;
    for (const n of p.nodes) {
      const hits = n.hitCount ?? 0;
      total += hits;
      const url = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/work\/main\//, '');
      const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
      by.set(key, (by.get(key) ?? 0) + hits);
    }
    const functions = [...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, hits]) => ({ fn, selfPct: Math.round((hits / Math.max(1, total)) * 1000) / 10 }));
    return { file, functions };
  });
}
