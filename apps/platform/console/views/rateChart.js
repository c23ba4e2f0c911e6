// <rate-chart>: orders created per second over the last minute, as SVG bars.
import { s } from '../dom.js';

/** Orders created per second over the last minute, as SVG bars. */
class RateChart extends HTMLElement {
  set series(values) {
    this._series = values;
    this.render();
  }
  connectedCallback() {
    this.render();
  }
  render() {
    const values = this._series ?? new Array(60).fill(0);
    const w = 600;
    const hgt = 80;
    const max = Math.max(1, ...values);
    const bw = w / values.length;
    const svg = s('svg', {
      viewBox: `0 0 ${w} ${hgt + 12}`,
      role: 'img',
      'aria-label': 'orders per second, last minute',
    });
    values.forEach((v, i) => {
      const bh = (v / max) * hgt;
      const bar = s('rect', { x: i * bw + 1, y: hgt - bh, width: Math.max(1, bw - 2), height: bh });
      bar.append(s('title', {}, `${v} orders/s, ${values.length - 1 - i} s ago`));
      svg.append(bar);
    });
    svg.append(s('text', { x: 0, y: hgt + 11 }, '-60 s'), s('text', { x: w - 24, y: hgt + 11 }, 'now'));
    svg.append(s('text', { x: 2, y: 10 }, `max ${max}/s`));
    this.replaceChildren(svg);
  }
}
customElements.define('rate-chart', RateChart);
