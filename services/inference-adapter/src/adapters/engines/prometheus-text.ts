import type { CumulativeHistogram } from '../../domain/load-snapshot.js';

/** One sample line of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Parses the Prometheus text format (version 0.0.4, which every engine here serves): comments
 * and HELP/TYPE lines are skipped, label values may hold escaped quotes, backslashes and newlines,
 * values may be NaN or ±Inf, and an optional timestamp is ignored. A line that does not parse is
 * skipped rather than failing the scrape: one odd metric must not blind the shard to its load.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseSampleLine(line: string): PromSample | undefined {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
  const name = line.slice(0, i);
  if (name.length === 0) return undefined;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const eq = line.indexOf('=', i);
      if (eq === -1 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) {
          j++;
          value += line[j] === 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.length) return undefined;
      labels[key] = value;
      i = j + 1;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0]);
  if (value === undefined) return undefined;
  return { name, labels, value };
}

function parseValue(raw: string | undefined): number | undefined {
  switch (raw) {
    case undefined:
    case '':
      return undefined;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
    default: {
      const value = Number(raw);
      return Number.isNaN(value) ? undefined : value;
    }
  }
}

/** Sums the series of the first of `names` that is present (engines renamed metrics over time). */
export function sumOfFirst(
  samples: readonly PromSample[],
  names: readonly string[],
): number | undefined {
  for (const name of names) {
    let total: number | undefined;
    for (const sample of samples) {
      if (sample.name === name && Number.isFinite(sample.value))
        total = (total ?? 0) + sample.value;
    }
    if (total !== undefined) return total;
  }
  return undefined;
}

/** Like sumOfFirst, but averages the series (for ratios reported per engine or per rank). */
export function meanOfFirst(
  samples: readonly PromSample[],
  names: readonly string[],
): number | undefined {
  for (const name of names) {
    const values = samples
      .filter((s) => s.name === name && Number.isFinite(s.value))
      .map((s) => s.value);
    if (values.length > 0) return values.reduce((a, b) => a + b, 0) / values.length;
  }
  return undefined;
}

/**
 * The first of `baseNames` present as a histogram, its series merged bucket by bucket (one series
 * per model, engine or rank). Undefined when none is present.
 */
export function histogramOfFirst(
  samples: readonly PromSample[],
  baseNames: readonly string[],
): CumulativeHistogram | undefined {
  for (const base of baseNames) {
    const bucketName = `${base}_bucket`;
    const byBound = new Map<number, number>();
    let count = 0;
    let sum = 0;
    let found = false;
    for (const sample of samples) {
      if (sample.name === bucketName) {
        const le = parseValue(sample.labels.le);
        if (le === undefined || Number.isNaN(le)) continue;
        byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
        found = true;
      } else if (sample.name === `${base}_count`) {
        count += sample.value;
      } else if (sample.name === `${base}_sum`) {
        sum += sample.value;
      }
    }
    if (found) {
      const buckets = [...byBound.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([le, c]) => ({ le, count: c }));
      return { buckets, count, sum };
    }
  }
  return undefined;
}
