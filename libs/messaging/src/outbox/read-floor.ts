/**
 * Where the relay's read starts: every outbox row with an id at or below the floor is published or
 * was rolled back, so the read descends the unpublished index straight past them.
 *
 * Without it, every read steps over the index entries of all the rows published since the table
 * was last vacuumed (marking a row published leaves its entry behind, dead), and with a bitmap plan
 * it visits each one's heap row too: reads get dearer the longer the outbox runs, by 10 ms a read
 * at 150,000 published rows.
 *
 * The floor must never pass a row that is still to commit. Its transaction may have taken its id
 * long before rows with higher ids committed and were read. The rule that keeps it behind them:
 *
 * 1. A read that has seen rows up to id `highest` stamps itself with a transaction id, assigned
 *    during the read, so above every transaction id handed out before the read's snapshot.
 * 2. Writers take their transaction id before their outbox ids (the inserts' gate in
 *    `enqueue-outbox.ts`), and ids come from a sequence in the order they are taken. Every row at or
 *    below `highest` was numbered before that row committed, so its transaction's id is below the
 *    stamp.
 * 3. Once a later read's snapshot has an xmin above the stamp, all those transactions have ended,
 *    and the rows among them that committed are visible to that read. The floor rises to
 *    `highest`, but stays below the lowest row that read found unpublished and below every row still
 *    on its way to Kafka or to its mark.
 *
 * One stamp is pending at a time: the floor moves up about once per round of the writers'
 * transactions. A transaction left open anywhere on the server holds xmin back, and the floor waits
 * where it is: reads then cost what they did without one.
 */
export class ReadFloor {
  private floor = 0n;
  /** Every transaction that could own a row at or below this has ended. */
  private settled = 0n;
  /** The highest row id any read has returned or been told is in flight. */
  private seen = 0n;
  private pending: { readonly highest: bigint; readonly stamp: bigint } | undefined;

  /** Rows with ids above this are the ones the next read needs. */
  get value(): bigint {
    return this.floor;
  }

  /**
   * Whether the next read should stamp itself (take a transaction id) for `advance`: only while
   * rows have been seen above `settled`, so an idle outbox's reads take none.
   */
  get wantsStamp(): boolean {
    return this.pending === undefined && this.seen > this.settled;
  }

  /**
   * After a read: `found` are the unpublished rows it returned (ids above the floor), `inFlight`
   * the rows it was told to skip (read earlier, not yet marked), `horizon` its snapshot's xmin and
   * `stamp` the transaction id it took, if it took one.
   */
  advance(read: {
    readonly found: readonly bigint[];
    readonly inFlight: readonly bigint[];
    readonly horizon: bigint;
    readonly stamp: bigint | undefined;
  }): void {
    let lowestOpen: bigint | undefined;
    for (const id of [...read.found, ...read.inFlight]) {
      if (lowestOpen === undefined || id < lowestOpen) lowestOpen = id;
      if (id > this.seen) this.seen = id;
    }
    if (this.pending && read.horizon > this.pending.stamp) {
      this.settled = max(this.settled, this.pending.highest);
      this.pending = undefined;
    }
    // Every row up to `seen` was visible to this read's snapshot or an earlier one.
    if (!this.pending && read.stamp !== undefined && this.seen > this.settled)
      this.pending = { highest: this.seen, stamp: read.stamp };
    const ceiling = lowestOpen === undefined ? this.settled : min(this.settled, lowestOpen - 1n);
    this.floor = max(this.floor, ceiling);
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
