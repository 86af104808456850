import {
  type AdmissionDecision,
  type AdmissionOptions,
  type AdmissionState,
  admitted,
  decideAdmission,
  fleetSaturated,
  initialAdmissionState,
  released,
} from '../../domain/admission.js';
import { type Priority } from '../../domain/tenant.js';
import { type Clock } from '../ports/system.port.js';

export interface AdmissionTicket {
  /** Frees the slot; `completed` turns feed the drain rate. Idempotent. */
  release(completed: boolean): void;
}

/** This replica's admission state; the decisions themselves live in the domain. */
export class AdmissionGate {
  private state: AdmissionState = initialAdmissionState;

  constructor(
    private readonly clock: Clock,
    readonly options: AdmissionOptions,
  ) {}

  tryAdmit(priority: Priority): { decision: AdmissionDecision; ticket?: AdmissionTicket } {
    const decision = decideAdmission(this.state, priority, this.clock.nowMs(), this.options);
    if (!decision.admitted) return { decision };
    this.state = admitted(this.state);
    let done = false;
    return {
      decision,
      ticket: {
        release: (completed) => {
          if (done) return;
          done = true;
          this.state = released(this.state, this.clock.nowMs(), this.options, completed);
        },
      },
    };
  }

  /** The router shed a turn of `priority`: shed that tier and below here until the hint passes. */
  noteFleetSaturated(priority: Priority, retryAfterMs: number): void {
    this.state = fleetSaturated(this.state, priority, retryAfterMs, this.clock.nowMs());
  }

  get inFlight(): number {
    return this.state.inFlight;
  }
}
