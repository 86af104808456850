import { GroupCommit, type Settled } from './group-commit.js';

interface Write {
  readonly conversationId: string;
  readonly label: string;
}

/** A commit that records each group and answers when told to. */
function recordingCommit() {
  const groups: string[][] = [];
  const pending: (() => void)[] = [];
  const commit = (writes: readonly Write[]): Promise<readonly Settled<string>[]> => {
    groups.push(writes.map((write) => write.label));
    return new Promise((resolve) =>
      pending.push(() =>
        resolve(
          writes.map((write) =>
            write.label.startsWith('bad')
              ? { ok: false, error: new Error(`refused ${write.label}`) }
              : { ok: true, value: `stored ${write.label}` },
          ),
        ),
      ),
    );
  };
  const answerNext = async (): Promise<void> => {
    pending.shift()?.();
    // The answer settles in a microtask; the next group is sent on the following turn.
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { commit, groups, answerNext };
}

const write = (conversationId: string, label = conversationId): Write => ({
  conversationId,
  label,
});
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('sends writes that arrive together as one group and settles each on its own', async () => {
    const { commit, groups, answerNext } = recordingCommit();
    const group = new GroupCommit(commit, { maxInFlight: 1, maxWrites: 10 });
    const answers = ['a', 'bad-b', 'c'].map((label) => group.submit(write(label)));
    const settled = Promise.allSettled(answers);
    await tick();
    expect(groups).toEqual([['a', 'bad-b', 'c']]);
    await answerNext();
    expect(await settled).toEqual([
      { status: 'fulfilled', value: 'stored a' },
      { status: 'rejected', reason: new Error('refused bad-b') },
      { status: 'fulfilled', value: 'stored c' },
    ]);
  });

  it('groups what arrives while a statement is in flight, up to maxWrites', async () => {
    const { commit, groups, answerNext } = recordingCommit();
    const group = new GroupCommit(commit, { maxInFlight: 1, maxWrites: 2 });
    const answers = [group.submit(write('a'))];
    await tick();
    answers.push(...['b', 'c', 'd'].map((label) => group.submit(write(label))));
    await tick();
    expect(groups).toEqual([['a']]);
    await answerNext();
    expect(groups).toEqual([['a'], ['b', 'c']]);
    await answerNext();
    await answerNext();
    expect(groups).toEqual([['a'], ['b', 'c'], ['d']]);
    await expect(Promise.all(answers)).resolves.toHaveLength(4);
  });

  it('never puts one conversation twice in a group, nor in two statements at once', async () => {
    const { commit, groups, answerNext } = recordingCommit();
    const group = new GroupCommit(commit, { maxInFlight: 2, maxWrites: 10 });
    const answers = [
      group.submit(write('x', 'x1')),
      group.submit(write('x', 'x2')),
      group.submit(write('y', 'y1')),
    ];
    await tick();
    // x2 waits for x1 although a second statement could be in flight.
    expect(groups).toEqual([['x1', 'y1']]);
    await answerNext();
    expect(groups).toEqual([['x1', 'y1'], ['x2']]);
    await answerNext();
    await expect(Promise.all(answers)).resolves.toEqual(['stored x1', 'stored x2', 'stored y1']);
  });

  it('fails every write of a group whose commit throws, and goes on with the next', async () => {
    let calls = 0;
    const group = new GroupCommit<Write, string>(
      async (writes) => {
        calls++;
        if (calls === 1) throw new Error('database unavailable');
        return writes.map((each) => ({ ok: true, value: each.label }));
      },
      { maxInFlight: 1, maxWrites: 10 },
    );
    const first = Promise.allSettled([group.submit(write('a')), group.submit(write('b'))]);
    expect((await first).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    await expect(group.submit(write('a'))).resolves.toBe('a');
  });
});
