import { take } from '../../../test/support/fakes.js';
import { FeedClosed, WatcherFellBehind } from '../ports/change-feed.port.js';
import { InMemoryChangeFeed } from './in-memory-change-feed.js';

describe('InMemoryChangeFeed', () => {
  it('delivers changes published after subscribing, in order', async () => {
    const feed = new InMemoryChangeFeed<number>();
    feed.publish(0);
    const subscription = feed.subscribe({ signal: new AbortController().signal, maxBuffered: 10 });
    feed.publish(1);
    feed.publish(2);
    expect(await take(subscription, 2)).toEqual([1, 2]);
    expect(feed.subscriberCount).toBe(0);
  });

  it('wakes a waiting subscriber', async () => {
    const feed = new InMemoryChangeFeed<string>();
    const subscription = feed.subscribe({ signal: new AbortController().signal, maxBuffered: 10 });
    const first = take(subscription, 1);
    feed.publish('late');
    expect(await first).toEqual(['late']);
  });

  it('ends the iteration when the signal aborts', async () => {
    const feed = new InMemoryChangeFeed<number>();
    const controller = new AbortController();
    const subscription = feed.subscribe({ signal: controller.signal, maxBuffered: 10 });
    const all = take(subscription, 5);
    controller.abort();
    expect(await all).toEqual([]);
    expect(feed.subscriberCount).toBe(0);
  });

  it('cuts off a subscriber that falls too far behind', async () => {
    const feed = new InMemoryChangeFeed<number>();
    const subscription = feed.subscribe({ signal: new AbortController().signal, maxBuffered: 3 });
    for (let i = 0; i < 4; i++) feed.publish(i);
    await expect(take(subscription, 4)).rejects.toBeInstanceOf(WatcherFellBehind);
    expect(feed.subscriberCount).toBe(0);
  });

  it('ends every subscription with FeedClosed on close', async () => {
    const feed = new InMemoryChangeFeed<number>();
    const subscription = feed.subscribe({ signal: new AbortController().signal, maxBuffered: 3 });
    const pending = take(subscription, 1);
    feed.close();
    await expect(pending).rejects.toBeInstanceOf(FeedClosed);
  });
});
