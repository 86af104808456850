import type { Histogram } from '../../application/histogram.js';

/** Prometheus text exposition (0.0.4), the format vLLM's /metrics serves. */
export class PrometheusText {
  private readonly lines: string[] = [];
  private readonly labels: string;

  constructor(baseLabels: Readonly<Record<string, string>>) {
    this.labels = Object.entries(baseLabels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
  }

  gauge(name: string, help: string, value: number, extra?: Readonly<Record<string, string>>): this {
    this.header(name, help, 'gauge');
    this.sample(name, value, extra);
    return this;
  }

  /** `name` must end in `_total`, as prometheus_client exposes counters. */
  counter(name: string, help: string, value: number): this {
    this.header(name, help, 'counter');
    this.sample(name, value);
    return this;
  }

  counterByLabel(
    name: string,
    help: string,
    label: string,
    values: Readonly<Record<string, number>>,
  ): this {
    this.header(name, help, 'counter');
    for (const [key, value] of Object.entries(values)) this.sample(name, value, { [label]: key });
    return this;
  }

  histogram(name: string, help: string, histogram: Histogram): this {
    this.header(name, help, 'histogram');
    const cumulative = histogram.cumulative();
    histogram.bounds.forEach((bound, i) =>
      this.sample(`${name}_bucket`, cumulative[i] ?? 0, { le: String(bound) }),
    );
    this.sample(`${name}_bucket`, histogram.count, { le: '+Inf' });
    this.sample(`${name}_count`, histogram.count);
    this.sample(`${name}_sum`, histogram.sum);
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }

  private header(name: string, help: string, type: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  private sample(name: string, value: number, extra?: Readonly<Record<string, string>>): void {
    let labels = this.labels;
    if (extra) {
      const more = Object.entries(extra)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      labels = labels ? `${labels},${more}` : more;
    }
    this.lines.push(`${name}{${labels}} ${Number.isFinite(value) ? value : 0}`);
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
