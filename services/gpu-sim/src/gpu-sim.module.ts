import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EngineLoop } from './application/engine-loop.js';
import { EngineMetrics } from './application/engine-metrics.js';
import { FaultState, type Fault } from './application/faults.js';
import { GenerationService } from './application/generation.service.js';
import {
  PROCESS_PORT,
  SCHEDULER_PORT,
  type ProcessPort,
  type SchedulerPort,
} from './application/ports.js';
import { Readiness } from './application/readiness.js';
import { ServeCompletionUseCase } from './application/serve-completion.use-case.js';
import { Engine } from './domain/engine.js';
import type { EngineProfile } from './domain/engine-profile.js';
import { AdminHttpController } from './adapters/http/admin.http.controller.js';
import { ChatCompletionsHttpController } from './adapters/http/chat-completions.http.controller.js';
import { CompletionsHttpController } from './adapters/http/completions.http.controller.js';
import { HealthHttpController } from './adapters/http/health.http.controller.js';
import { MetricsHttpController } from './adapters/http/metrics.http.controller.js';
import { ModelsHttpController } from './adapters/http/models.http.controller.js';

/** Everything one simulated server needs, resolved from config by main.ts (or a test). */
export interface GpuSimSettings {
  readonly profile: EngineProfile;
  readonly modelName: string;
  readonly timeScale: number;
  readonly seed: number;
  readonly fault: Fault;
  readonly minTickMs: number;
  /** Socket writes per second across all streams before flowing streams coalesce (0 = no cap). */
  readonly maxWritesPerSecond: number;
}

export interface GpuSimPorts {
  readonly scheduler?: SchedulerPort;
  readonly process?: ProcessPort;
}

export const GPU_SIM_SETTINGS = Symbol('GpuSimSettings');

export const realScheduler: SchedulerPort = {
  now: () => performance.now(),
  after: (delayMs, callback) => {
    // setTimeout(0) waits at least 1 ms; zero latency (min tick 0) must not pay that per tick.
    if (delayMs <= 0) {
      const immediate = setImmediate(callback);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

export const realProcess: ProcessPort = { exit: (code) => process.exit(code) };

class EngineLoopShutdown implements OnApplicationShutdown {
  constructor(@Inject(EngineLoop) private readonly loop: EngineLoop) {}

  onApplicationShutdown(): void {
    this.loop.stop();
  }
}

/** Composition root: wiring only. */
@Module({})
export class GpuSimModule {
  static forRoot(settings: GpuSimSettings, ports: GpuSimPorts = {}): DynamicModule {
    return {
      module: GpuSimModule,
      controllers: [
        ChatCompletionsHttpController,
        CompletionsHttpController,
        ModelsHttpController,
        HealthHttpController,
        MetricsHttpController,
        AdminHttpController,
      ],
      providers: [
        { provide: GPU_SIM_SETTINGS, useValue: settings },
        { provide: SCHEDULER_PORT, useValue: ports.scheduler ?? realScheduler },
        { provide: PROCESS_PORT, useValue: ports.process ?? realProcess },
        { provide: Engine, useFactory: () => new Engine(settings.profile) },
        {
          provide: EngineMetrics,
          useFactory: () => new EngineMetrics(settings.profile.scheduler.maxModelLen),
        },
        {
          provide: FaultState,
          useFactory: () => {
            const faults = new FaultState();
            faults.set(settings.fault);
            return faults;
          },
        },
        {
          provide: EngineLoop,
          inject: [Engine, SCHEDULER_PORT, EngineMetrics, FaultState, PROCESS_PORT],
          useFactory: (
            engine: Engine,
            scheduler: SchedulerPort,
            metrics: EngineMetrics,
            faults: FaultState,
            proc: ProcessPort,
          ) =>
            new EngineLoop(engine, scheduler, metrics, faults, proc, {
              timeScale: settings.timeScale,
              frontendOverheadMs: settings.profile.frontendOverheadMs,
              minTickMs: settings.minTickMs,
              maxWritesPerSecond: settings.maxWritesPerSecond,
            }),
        },
        {
          provide: GenerationService,
          inject: [EngineLoop, EngineMetrics, FaultState, PROCESS_PORT, SCHEDULER_PORT],
          useFactory: (
            loop: EngineLoop,
            metrics: EngineMetrics,
            faults: FaultState,
            proc: ProcessPort,
            scheduler: SchedulerPort,
          ) => new GenerationService(loop, metrics, faults, proc, scheduler),
        },
        {
          provide: Readiness,
          inject: [SCHEDULER_PORT],
          useFactory: (scheduler: SchedulerPort) =>
            new Readiness(scheduler, settings.profile.modelLoadMs, settings.timeScale),
        },
        {
          provide: ServeCompletionUseCase,
          inject: [Engine, GenerationService, Readiness, FaultState],
          useFactory: (
            engine: Engine,
            generations: GenerationService,
            readiness: Readiness,
            faults: FaultState,
          ) =>
            new ServeCompletionUseCase(
              { modelName: settings.modelName, defaultSeed: settings.seed },
              engine,
              generations,
              readiness,
              faults,
            ),
        },
        EngineLoopShutdown,
      ],
      exports: [EngineLoop, GenerationService, Readiness, FaultState, Engine],
    };
  }
}
