import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { sameZoneFirstFilter } from './same-zone-first.filter.js';

describe('same-zone-first filter', () => {
  const shards = [aShard({ id: 'east', zone: 'east' }), aShard({ id: 'west', zone: 'west' })];

  it('keeps the shards in the caller zone when there are any', () => {
    expect(sameZoneFirstFilter.filter(shards, aContext({ zone: 'west' })).map((s) => s.id)).toEqual(
      ['west'],
    );
  });

  it('keeps all shards when none is in the caller zone', () => {
    expect(sameZoneFirstFilter.filter(shards, aContext({ zone: 'north' }))).toHaveLength(2);
  });

  it('keeps all shards when the caller states no zone', () => {
    expect(sameZoneFirstFilter.filter(shards, aContext({ zone: undefined }))).toHaveLength(2);
  });
});
