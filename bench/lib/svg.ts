/** A small line chart (no dependency): latency (log scale) against arrival rate. */
export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

export function latencyChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  threshold?: { y: number; label: string };
}): string {
  const W = 720;
  const H = 420;
  const m = { l: 70, r: 170, t: 40, b: 50 };
  const pts = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && p.y > 0);
  const xs = pts.map((p) => p.x);
  const ys = [...pts.map((p) => p.y), o.threshold?.y ?? 1];
  const xMax = Math.max(1, ...xs) * 1.05;
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...ys))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.01));
  const px = (x: number) => m.l + (x / xMax) * (W - m.l - m.r);
  const py = (y: number) =>
    H -
    m.b -
    ((Math.log10(Math.min(Math.max(y, yMin), yMax)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
      (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
  ];
  for (let d = yMin; d <= yMax; d *= 10) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(d)}" y2="${py(d)}" stroke="#ddd"/>`);
    out.push(
      `<text x="${m.l - 6}" y="${py(d) + 4}" text-anchor="end">${d >= 1000 ? `${d / 1000} s` : `${d} ms`}</text>`,
    );
  }
  const step = 10 ** Math.floor(Math.log10(xMax)) / (xMax / 10 ** Math.floor(Math.log10(xMax)) < 3 ? 4 : 1);
  for (let x = 0; x <= xMax; x += step) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`);
    out.push(`<text x="${px(x)}" y="${H - m.b + 16}" text-anchor="middle">${Math.round(x)}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  if (o.threshold) {
    const y = py(o.threshold.y);
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#c00" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${W - m.r - 4}" y="${y - 4}" text-anchor="end" fill="#c00">${esc(o.threshold.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    const ok = s.points.filter((p) => Number.isFinite(p.y) && p.y > 0).sort((a, b) => a.x - b.x);
    if (ok.length > 0) {
      const d = ok.map((p, j) => `${j ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
      out.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      for (const p of ok)
        out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const ly = m.t + 10 + i * 20;
    out.push(
      `<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${W - m.r + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
