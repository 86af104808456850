import type { common } from '@spillway/contracts';
import type { EngineLoadSample } from '../../domain/load-snapshot.js';
import type { ClockPort } from '../clock.port.js';
import type { EnginePort } from '../engine.port.js';
import type { LoadPublisherPort } from '../load-publisher.port.js';
import type { LogPort } from '../log.port.js';
import type { ShardRuntime } from '../shard-runtime.js';

/**
 * Watches the engine about once a second: probes its health (which gates admission and the gRPC
 * health status), scrapes its metrics into the shard's load snapshot and, when a publisher is
 * configured, publishes that snapshot as ShardLoadReported. Publishing never holds up the probe:
 * a slow broker costs at most a skipped report.
 */
export class ReportLoad {
  private publishing: Promise<void> | undefined;
  private scrapeFailing = false;
  private publishFailing = false;

  constructor(
    private readonly runtime: ShardRuntime,
    private readonly engine: EnginePort,
    private readonly publisher: LoadPublisherPort | undefined,
    private readonly log: LogPort,
    private readonly clock: ClockPort,
    private readonly intervalMs: number,
  ) {}

  /** One round: probe, scrape, publish (in the background). Returns the new snapshot. */
  async tick(signal: AbortSignal): Promise<common.ShardLoad> {
    await this.probe(signal);
    const sample = this.runtime.engineHealth.ready ? await this.scrape(signal) : undefined;
    const load = this.runtime.recordEngineSample(sample);
    this.publish(load);
    return load;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = this.clock.nowMs();
      await this.tick(signal);
      await this.clock.sleep(Math.max(0, this.intervalMs - (this.clock.nowMs() - started)), signal);
    }
    await this.publishing;
  }

  private async probe(signal: AbortSignal): Promise<void> {
    const before = this.runtime.engineHealth;
    const health = await this.engine.probeHealth(signal);
    if (signal.aborted) return;
    this.runtime.setEngineHealth(health);
    if (health.ready !== before.ready) {
      const fields = {
        shardId: this.runtime.shardId,
        engine: this.engine.baseUrl,
        detail: health.detail,
      };
      if (health.ready) this.log.info('engine ready', fields);
      else this.log.warn('engine not ready', fields);
    }
  }

  private async scrape(signal: AbortSignal): Promise<EngineLoadSample | undefined> {
    try {
      const sample = await this.engine.scrapeLoad(signal);
      if (this.scrapeFailing)
        this.log.info('engine metrics scrape recovered', { shardId: this.runtime.shardId });
      this.scrapeFailing = false;
      return sample;
    } catch (error) {
      if (!this.scrapeFailing && !signal.aborted) {
        this.log.warn('engine metrics scrape failed; reporting adapter-side load only', {
          shardId: this.runtime.shardId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      this.scrapeFailing = true;
      return undefined;
    }
  }

  private publish(load: common.ShardLoad): void {
    const publisher = this.publisher;
    if (!publisher || this.publishing) return;
    const { shardId, pool } = this.runtime.identity;
    this.publishing = publisher
      .publish(shardId, pool, load)
      .then(
        () => {
          if (this.publishFailing)
            this.log.info('load reports are being published again', { shardId });
          this.publishFailing = false;
        },
        (error: unknown) => {
          if (!this.publishFailing) {
            this.log.warn('publishing the load report failed; will keep trying', {
              shardId,
              error: error instanceof Error ? error.message : String(error),
            });
          }
          this.publishFailing = true;
        },
      )
      .finally(() => {
        this.publishing = undefined;
      });
  }
}
