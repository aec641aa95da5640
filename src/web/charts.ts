/**
 * Server-drawn bar charts (issue 14 §5): the geometry of an SVG the template writes out — no script, no chart
 * library in the browser. Each series is a colour and a pattern-free fill; the figures are also in the table below
 * each chart (its text alternative says so), so nothing depends on telling the colours apart.
 */
export type ChartSeries = { name: string; className: string; values: (number | null)[] };
export type BarChart = {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  bars: { x: number; y: number; width: number; height: number; className: string; title: string }[];
  yTicks: { y: number; label: string }[];
  xLabels: { x: number; label: string }[];
  legend: { name: string; className: string }[];
};

const WIDTH = 720;
const HEIGHT = 260;
const PLOT = { left: 48, top: 12, right: WIDTH - 8, bottom: HEIGHT - 44 };

/** A round top for the scale (1, 2, 5 × 10^n) at or above the largest value. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? 10 * p) as number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function barChart(categories: string[], series: ChartSeries[], unit: string, format: (n: number) => string = (n) => String(n).replace(".", ",")): BarChart {
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const slot = (PLOT.right - PLOT.left) / Math.max(1, categories.length);
  const barWidth = Math.max(2, (slot * 0.8) / series.length);
  const scale = (v: number) => ((PLOT.bottom - PLOT.top) * v) / top;
  const bars = categories.flatMap((category, i) =>
    series.flatMap((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined) return [];
      const h = scale(v);
      return [
        {
          x: round1(PLOT.left + i * slot + slot * 0.1 + j * barWidth),
          y: round1(PLOT.bottom - h),
          width: round1(barWidth),
          height: round1(h),
          className: s.className,
          title: `${category} — ${s.name} : ${format(v)} ${unit}`,
        },
      ];
    }),
  );
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ y: round1(PLOT.bottom - (PLOT.bottom - PLOT.top) * f), label: format(round1(top * f)) }));
  // A label every few weeks, so they never overlap.
  const every = Math.max(1, Math.ceil(categories.length / 9));
  const xLabels = categories.flatMap((label, i) => (i % every === 0 ? [{ x: round1(PLOT.left + i * slot + slot / 2), label: label.slice(0, 5) }] : []));
  return { width: WIDTH, height: HEIGHT, plot: PLOT, bars, yTicks, xLabels, legend: series.map((s) => ({ name: s.name, className: s.className })) };
}
