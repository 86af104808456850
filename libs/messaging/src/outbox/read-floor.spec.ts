import { ReadFloor } from './read-floor.js';

/** A read's facts, ids as numbers for brevity. */
function read(
  found: readonly number[],
  options: { inFlight?: readonly number[]; horizon: number; stamp?: number },
) {
  return {
    found: found.map(BigInt),
    inFlight: (options.inFlight ?? []).map(BigInt),
    horizon: BigInt(options.horizon),
    stamp: options.stamp === undefined ? undefined : BigInt(options.stamp),
  };
}

/** A floor that has read row `id`, sent it, and seen every transaction older than its stamp end. */
function settledAt(id: number): ReadFloor {
  const floor = new ReadFloor();
  floor.advance(read([id], { horizon: 10 }));
  floor.advance(read([], { inFlight: [id], horizon: 10, stamp: 11 }));
  floor.advance(read([], { horizon: 12 }));
  expect(floor.value).toBe(BigInt(id));
  return floor;
}

describe('ReadFloor', () => {
  it('starts at zero and takes no stamp while nothing has been seen', () => {
    const floor = new ReadFloor();
    expect(floor.value).toBe(0n);
    expect(floor.wantsStamp).toBe(false);
    floor.advance(read([], { horizon: 500 }));
    expect(floor.value).toBe(0n);
    expect(floor.wantsStamp).toBe(false);
  });

  it('rises to the rows seen once a later snapshot shows every transaction older than the stamp ended', () => {
    const floor = new ReadFloor();
    floor.advance(read([1, 2, 3], { horizon: 100 }));
    expect(floor.wantsStamp).toBe(true);
    floor.advance(read([4, 5], { inFlight: [1, 2, 3], horizon: 101, stamp: 110 }));
    expect(floor.value).toBe(0n); // nothing settled yet: rows 1–5 may have older company in flight
    expect(floor.wantsStamp).toBe(false); // one stamp pending at a time
    floor.advance(read([], { horizon: 111 })); // every transaction below 110 has ended
    expect(floor.value).toBe(5n);
  });

  it('does not settle while the horizon is at the stamp (that transaction may still be running)', () => {
    const floor = new ReadFloor();
    floor.advance(read([7], { horizon: 100 }));
    floor.advance(read([], { inFlight: [7], horizon: 100, stamp: 120 }));
    floor.advance(read([], { horizon: 120 }));
    expect(floor.value).toBe(0n);
    floor.advance(read([], { horizon: 121 }));
    expect(floor.value).toBe(7n);
  });

  it('stays below every row found unpublished or still in flight, however far it has settled', () => {
    const floor = new ReadFloor();
    floor.advance(read([10, 11, 12], { horizon: 100 }));
    floor.advance(read([13], { inFlight: [10, 11, 12], horizon: 101, stamp: 102 }));
    floor.advance(read([14], { inFlight: [11, 13], horizon: 103 })); // settled to 13; 11 unmarked
    expect(floor.value).toBe(10n);
    floor.advance(read([], { inFlight: [13, 14], horizon: 104 }));
    expect(floor.value).toBe(12n);
  });

  it('waits behind a transaction left open: the horizon stops at it and nothing settles', () => {
    const floor = new ReadFloor();
    // Transaction 90 holds a row numbered before 21–24 and has not committed.
    floor.advance(read([21, 22], { horizon: 90 }));
    floor.advance(read([23, 24], { inFlight: [21, 22], horizon: 90, stamp: 130 }));
    for (let poll = 0; poll < 5; poll++) floor.advance(read([], { horizon: 90 }));
    expect(floor.value).toBe(0n);
    // It commits its row 20: the next read finds it; the floor settles below it.
    floor.advance(read([20], { horizon: 131 }));
    expect(floor.value).toBe(19n);
    floor.advance(read([], { inFlight: [20], horizon: 132 }));
    expect(floor.value).toBe(19n);
    floor.advance(read([], { horizon: 133 })); // row 20 marked
    expect(floor.value).toBe(24n);
  });

  it('catches up with the last rows of a burst on idle reads, then takes no more stamps', () => {
    const floor = new ReadFloor();
    floor.advance(read([1, 2], { horizon: 10 }));
    floor.advance(read([3], { inFlight: [1, 2], horizon: 11, stamp: 12 }));
    floor.advance(read([], { inFlight: [3], horizon: 13 })); // settles 3, but 3 is still in flight
    expect(floor.value).toBe(2n);
    floor.advance(read([], { horizon: 14 }));
    expect(floor.value).toBe(3n);
    expect(floor.wantsStamp).toBe(false);
  });

  it('never moves down, even when told of a lower row in flight', () => {
    const floor = settledAt(5);
    // A send failed and its rows, all above the floor, are read again: the floor holds.
    floor.advance(read([6], { horizon: 13 }));
    expect(floor.value).toBe(5n);
    // The relay never reports a row below the floor (those are published), but if it did, the
    // floor still holds: the reads skip rows in flight anyway.
    floor.advance(read([], { inFlight: [3], horizon: 14 }));
    expect(floor.value).toBe(5n);
  });
});
