interface Lane {
  tail: Promise<void>;
  pending: number;
}

/**
 * Runs tasks one at a time per key, in the order they were submitted; different keys run
 * concurrently. A failed task does not stop the ones queued behind it.
 */
export class KeyedSerialQueue {
  private readonly lanes = new Map<string, Lane>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { tail: Promise.resolve(), pending: 0 };
      this.lanes.set(key, lane);
    }
    const current = lane;
    current.pending++;
    // Bookkeeping happens before the caller resumes, so isBusy() is exact when it does.
    const result = current.tail.then(task).finally(() => {
      current.pending--;
      if (current.pending === 0 && this.lanes.get(key) === current) this.lanes.delete(key);
    });
    current.tail = result.then(ignore, ignore);
    return result;
  }

  /** Whether a task for `key` is queued or running. */
  isBusy(key: string): boolean {
    return this.lanes.has(key);
  }

  /** Resolves when everything submitted so far has finished. */
  async idle(): Promise<void> {
    while (this.lanes.size > 0)
      await Promise.all([...this.lanes.values()].map((lane) => lane.tail));
  }
}

function ignore(): void {
  // A task's failure belongs to its caller; the queue only needs to know it finished.
}
