import { histogramOfFirst, parsePrometheusText, sumOfFirst } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads names, escaped labels, special values and ignores comments and timestamps', () => {
    const text = [
      '# HELP x_total A counter.',
      '# TYPE x_total counter',
      'x_total{model_name="m \\"quoted\\" \\\\ back\\nline",engine="0"} 12 1700000000000',
      'plain 3.5e+02',
      'inf_gauge +Inf',
      'nan_gauge NaN',
      'broken{label="unterminated} 1',
      '',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples[0]).toEqual({
      name: 'x_total',
      labels: { model_name: 'm "quoted" \\ back\nline', engine: '0' },
      value: 12,
    });
    expect(samples[1]).toEqual({ name: 'plain', labels: {}, value: 350 });
    expect(samples[2]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(samples[3]?.value)).toBe(true);
    expect(samples).toHaveLength(4);
  });

  it('sums series across labels and falls back to older metric names', () => {
    const samples = parsePrometheusText('old_name{engine="0"} 2\nold_name{engine="1"} 3\n');
    expect(sumOfFirst(samples, ['new_name', 'old_name'])).toBe(5);
    expect(sumOfFirst(samples, ['missing'])).toBeUndefined();
  });

  it('merges histogram series bucket by bucket', () => {
    const text = [
      'h_bucket{le="0.1",e="0"} 1',
      'h_bucket{le="+Inf",e="0"} 2',
      'h_bucket{le="0.1",e="1"} 3',
      'h_bucket{le="+Inf",e="1"} 3',
      'h_count{e="0"} 2',
      'h_count{e="1"} 3',
      'h_sum{e="0"} 0.5',
    ].join('\n');
    expect(histogramOfFirst(parsePrometheusText(text), ['h'])).toEqual({
      buckets: [
        { le: 0.1, count: 4 },
        { le: Number.POSITIVE_INFINITY, count: 5 },
      ],
      count: 5,
      sum: 0.5,
    });
  });
});
