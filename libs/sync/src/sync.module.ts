import { Global, Module } from '@nestjs/common';
import { RunService } from './run.service.js';
import { SyncEngine } from './sync.engine.js';
import { SyncJobs } from './sync.jobs.js';

/** Sync runs of sources: the engine, run bookkeeping and the scheduled and on-demand jobs. */
@Global()
@Module({ providers: [RunService, SyncEngine, SyncJobs], exports: [RunService, SyncEngine] })
export class SyncModule {}
