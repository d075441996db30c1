import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** One line of a chart: a name and its points (x in minutes; y may be missing where nothing was measured). */
export interface Series {
  name: string;
  points: Array<[number, number | null]>;
}

export interface Chart {
  /** File name without extension: `<name>.png` is written. */
  file: string;
  title: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic y axis (latencies spanning milliseconds to seconds). */
  logY?: boolean;
  /** A dashed vertical line, e.g. where the load stopped. */
  mark?: { x: number; label: string };
}

const WIDTH = 900;
const HEIGHT = 340;
const MARGIN = { top: 36, right: 20, bottom: 58, left: 72 };
const COLOURS = ['#1c7ed6', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#495057', '#e03131', '#0c8599'];

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round numbers for axis ticks: 1, 2 or 5 times a power of ten, about `count` of them. */
function ticks(min: number, max: number, count = 6): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const format = (v: number): string =>
  Math.abs(v) >= 10_000
    ? `${(v / 1000).toFixed(0)}k`
    : Math.abs(v) >= 100
      ? v.toFixed(0)
      : String(Number(v.toFixed(2)));

/**
 * A line chart as SVG. Recharts (the console's chart library) renders nothing outside a browser's layout pass,
 * and bundling it for a page would need a build step for one benchmark, so the few lines of a chart are drawn here.
 */
export function lineChartSvg(chart: Chart): string {
  const xs = chart.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = chart.series.flatMap((s) => s.points.flatMap(([, y]) => (y === null ? [] : [y])));
  const xMax = Math.max(1e-9, ...xs);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const positive = ys.filter((y) => y > 0);
  const log = chart.logY === true && positive.length > 0;
  const yMin = log ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 0;
  const yMaxRaw = Math.max(log ? yMin * 10 : 1e-9, ...ys);
  const yMax = log ? 10 ** Math.ceil(Math.log10(yMaxRaw)) : (ticks(0, yMaxRaw * 1.05).at(-1) ?? yMaxRaw);
  const sx = (x: number): number => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number): number => {
    const f = log
      ? (Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : y / yMax;
    return MARGIN.top + plotH - f * plotH;
  };
  const yTicks = log
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * 10 ** i)
    : ticks(0, yMax);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  for (const t of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e9ecef"/>`,
      `<text x="${MARGIN.left - 6}" y="${sy(t) + 4}" text-anchor="end" fill="#495057">${format(t)}</text>`,
    );
  }
  for (const t of ticks(0, xMax, 10)) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#495057"/>`,
      `<text x="${sx(t)}" y="${MARGIN.top + plotH + 17}" text-anchor="middle" fill="#495057">${format(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#495057"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#495057"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 26}" text-anchor="middle" fill="#495057">minutes</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#495057">${escape(chart.yLabel)}${log ? ' (log)' : ''}</text>`,
  );
  if (chart.mark) {
    const x = sx(chart.mark.x);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#868e96" stroke-dasharray="4 3"/>`,
      `<text x="${x - 4}" y="${MARGIN.top + 12}" text-anchor="end" fill="#868e96">${escape(chart.mark.label)}</text>`,
    );
  }
  let legendX = MARGIN.left;
  chart.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length];
    // A gap where nothing was measured, so a missing sample is not drawn as a straight line through it.
    let d = '';
    let pen = false;
    for (const [x, y] of series.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"/>`);
    parts.push(
      `<rect x="${legendX}" y="${HEIGHT - 14}" width="12" height="4" fill="${colour}"/>`,
      `<text x="${legendX + 16}" y="${HEIGHT - 8}" fill="#212529">${escape(series.name)}</text>`,
    );
    legendX += 28 + series.name.length * 6.6;
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes each chart as a PNG: Chromium's screenshot of the SVG (no native image library needed). */
export async function renderCharts(charts: Chart[], dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const written: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
    for (const chart of charts) {
      const svg = lineChartSvg(chart);
      const png = join(dir, `${chart.file}.png`);
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      await page.locator('svg').screenshot({ path: png });
      written.push(png);
    }
  } finally {
    await browser.close();
  }
  return written;
}
