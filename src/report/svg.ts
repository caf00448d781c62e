// Plots as inline SVG strings: line charts (linear or log axes, several series, a legend) and a confusion
// matrix. No scripts and no external resources, so a report opens anywhere, offline.

export interface Series {
  name: string;
  /** [x, y] points; non-finite y values leave a gap. */
  points: readonly (readonly [number, number])[];
  /** Dashed, e.g. for validation curves. */
  dashed?: boolean;
  /** Points drawn as dots instead of a line (sparse series, e.g. one validation value per epoch). */
  dots?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(1).replace('e+', 'e');
  return Number(v.toPrecision(3)).toString();
}

// Axis ticks: about five round values over [lo, hi] (powers of ten on a log axis).
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const v = 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out.length >= 2 ? out : [lo, hi];
  }
  if (hi === lo) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice * 1e-9; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A line chart of one or more series. */
export function lineChart(series: readonly Series[], o: LineChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 320;
  const m = { left: 64, right: 16, top: 32, bottom: 44 };
  const tx = (v: number) => (o.logX ? Math.log10(v) : v);
  const ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const usable = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0) && (!o.logY || y > 0);
  const all = series.flatMap((s) => s.points.filter(([x, y]) => usable(x, y)));
  const title = `<text x="${width / 2}" y="20" text-anchor="middle" class="title">${escapeXml(o.title)}</text>`;
  if (all.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>`;
  }
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = o.logX ? [x0 / 2, x1 * 2] : [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = o.logY ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
  const px = (x: number) => m.left + ((tx(x) - tx(x0)) / (tx(x1) - tx(x0))) * (width - m.left - m.right);
  const py = (y: number) => height - m.bottom - ((ty(y) - ty(y0)) / (ty(y1) - ty(y0))) * (height - m.top - m.bottom);
  const parts: string[] = [title];
  for (const v of ticks(x0, x1, o.logX ?? false)) {
    parts.push(`<line x1="${px(v).toFixed(1)}" y1="${height - m.bottom}" x2="${px(v).toFixed(1)}" y2="${m.top}" class="grid"/>`);
    parts.push(`<text x="${px(v).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${formatTick(v)}</text>`);
  }
  for (const v of ticks(y0, y1, o.logY ?? false)) {
    parts.push(`<line x1="${m.left}" y1="${py(v).toFixed(1)}" x2="${width - m.right}" y2="${py(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${formatTick(v)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" class="frame"/>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(
    `<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    if (s.dots) {
      for (const [x, y] of s.points)
        if (usable(x, y)) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    }
    // Runs of usable points become path segments (M starts a new one after a gap).
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!usable(x, y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`;
      pen = true;
    }
    if (d)
      parts.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''}${s.dots ? ' stroke-opacity="0.5"' : ''}/>`,
      );
    parts.push(`<rect x="${m.left + 8}" y="${m.top + 6 + i * 15}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${m.left + 22}" y="${m.top + 15 + i * 15}">${escapeXml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}

/** A confusion matrix (rows: true class, columns: predicted), cells shaded by their share of the row. */
export function confusionChart(confusion: readonly (readonly number[])[], classes: readonly string[], title: string): string {
  const n = classes.length;
  const cell = Math.max(36, Math.min(72, Math.floor(480 / Math.max(n, 1))));
  const left = 110;
  const top = 64;
  const width = Math.max(left + n * cell + 16, 8 * title.length + 24);
  const height = top + n * cell + 40;
  const parts = [`<text x="${width / 2}" y="20" text-anchor="middle" class="title">${escapeXml(title)}</text>`];
  parts.push(`<text x="${left + (n * cell) / 2}" y="40" text-anchor="middle">predicted</text>`);
  classes.forEach((c, j) =>
    parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(c)}</text>`),
  );
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(classes[i] ?? String(i))}</text>`);
    row.forEach((v, j) => {
      const share = v / total;
      const fill = i === j ? `rgba(44,160,44,${0.15 + 0.85 * share})` : `rgba(214,39,40,${share === 0 ? 0.03 : 0.15 + 0.85 * share})`;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<path d="M${x} ${y}h${cell}v${cell}h${-cell}Z" fill="${fill}" stroke="#888"/>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle">${v}</text>`);
    });
  });
  parts.push(
    `<text x="16" y="${top + (n * cell) / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + (n * cell) / 2})">true class</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}
