import type { SchedulerPort } from './ports.js';

/**
 * Cold start and drain. The server answers from the first moment (so /health can say "not yet"),
 * but only serves once the profile's model load time, scaled like every other duration, has
 * passed; on shutdown it stops taking new requests while open streams finish.
 */
export class Readiness {
  private readonly readyAtWallMs: number;
  private draining = false;

  constructor(
    private readonly scheduler: SchedulerPort,
    modelLoadMs: number,
    timeScale: number,
  ) {
    this.readyAtWallMs = scheduler.now() + modelLoadMs * timeScale;
  }

  get loaded(): boolean {
    return this.scheduler.now() >= this.readyAtWallMs;
  }

  get ready(): boolean {
    return this.loaded && !this.draining;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Wall milliseconds until the model is loaded (0 once it is). */
  get loadRemainingWallMs(): number {
    return Math.max(0, this.readyAtWallMs - this.scheduler.now());
  }

  drain(): void {
    this.draining = true;
  }
}
