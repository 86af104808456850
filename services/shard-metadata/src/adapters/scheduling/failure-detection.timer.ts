import type { DetectFailuresUseCase } from '../../application/detect-failures/detect-failures.use-case.js';

export interface FailureDetectionLog {
  /** `probe`: why the shard was not found serving when asked directly (absent without a probe). */
  shardFailed(shardId: string, probe?: string): void;
  /** Missed its heartbeats but answered the probe: kept, recorded as heard from. */
  probeAnswered(shardId: string): void;
  passFailed(shardId: string, error: unknown): void;
  passSkipped(lagMs: number): void;
}

/**
 * Runs the failure detector every `intervalMs`. A pass still running when the next is due is not
 * doubled. A tick that comes late means this process was stalled (GC, CPU starvation), and the
 * heartbeats that arrived meanwhile still sit unread in socket buffers: Node runs timers before
 * I/O, so that pass is skipped and the next one, after the I/O phase, sees them.
 */
export class FailureDetectionTimer {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private lastTickAt = 0;
  private skippedLast = false;

  constructor(
    private readonly detectFailures: DetectFailuresUseCase,
    private readonly intervalMs: number,
    private readonly log: FailureDetectionLog,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.lastTickAt = this.now();
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  private tick(): void {
    const now = this.now();
    const lagMs = now - this.lastTickAt - this.intervalMs;
    this.lastTickAt = now;
    // Never twice in a row: on a machine that is always this slow, detection must still run.
    if (lagMs > this.intervalMs && !this.skippedLast) {
      this.skippedLast = true;
      this.log.passSkipped(Math.round(lagMs));
      return;
    }
    this.skippedLast = false;
    this.pass ??= this.runPass().finally(() => {
      this.pass = undefined;
    });
  }

  private async runPass(): Promise<void> {
    const { failed, errors, answeredProbe, probeFailures } = await this.detectFailures.execute();
    for (const shard of failed)
      this.log.shardFailed(shard.shardId, probeFailures.get(shard.shardId));
    for (const shard of answeredProbe) this.log.probeAnswered(shard.shardId);
    for (const { shardId, error } of errors) this.log.passFailed(shardId, error);
  }
}
