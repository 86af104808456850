/** Builds Prometheus text exposition the way prometheus_client renders it, for parser tests. */

type Labels = Readonly<Record<string, string>>;

export class Exposition {
  private readonly lines: string[] = [];

  gauge(name: string, value: number, labels: Labels = {}): this {
    this.lines.push(
      `# HELP ${name} test gauge`,
      `# TYPE ${name} gauge`,
      `${name}${render(labels)} ${format(value)}`,
    );
    return this;
  }

  counter(name: string, value: number, labels: Labels = {}): this {
    this.lines.push(
      `# HELP ${name} test counter`,
      `# TYPE ${name} counter`,
      `${name}${render(labels)} ${format(value)}`,
    );
    return this;
  }

  /** A histogram holding `observations`, with cumulative buckets at `bounds` plus +Inf. */
  histogram(
    name: string,
    bounds: readonly number[],
    observations: readonly number[],
    labels: Labels = {},
  ): this {
    this.lines.push(`# HELP ${name} test histogram`, `# TYPE ${name} histogram`);
    this.lines.push(
      `${name}_sum${render(labels)} ${format(observations.reduce((a, b) => a + b, 0))}`,
    );
    for (const le of [...bounds, Number.POSITIVE_INFINITY]) {
      const count = observations.filter((o) => o <= le).length;
      this.lines.push(
        `${name}_bucket${render({ ...labels, le: Number.isFinite(le) ? format(le) : '+Inf' })} ${format(count)}`,
      );
    }
    this.lines.push(`${name}_count${render(labels)} ${format(observations.length)}`);
    return this;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function render(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** prometheus_client writes floats with a decimal point. */
function format(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

export const LATENCY_BOUNDS_SECONDS = [
  0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
