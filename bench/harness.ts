import { cpus, totalmem } from 'node:os';

/** One measured figure: a value with its unit and, optionally, the goal it is held against. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal?: string;
}

/** A benchmark: `bench/<name>.bench.ts` default-exports one. `npm run bench [name…]` runs them. */
export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<Figure[]>;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Samples RSS every 50 ms while `fn` runs; returns its result and the peak in MiB. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

export function formatFigure(f: Figure): string {
  const value = f.value >= 100 ? Math.round(f.value).toLocaleString('en-US') : f.value.toFixed(2);
  return `  ${f.name}: ${value} ${f.unit}${f.goal ? `   (goal: ${f.goal})` : ''}`;
}
