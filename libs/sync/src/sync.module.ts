import { Global, Module } from '@nestjs/common';
import { RunService } from './run.service.js';
import { SyncEngine } from './sync.engine.js';
import { SyncJobs } from './sync.jobs.js';
import { RunReaper } from './run-reaper.service.js';
import { UploadService } from './upload.service.js';

/** Sync runs of sources: the engine, run bookkeeping, uploads, the reaper and the scheduled and on-demand jobs. */
@Global()
@Module({
  providers: [RunService, SyncEngine, SyncJobs, RunReaper, UploadService],
  exports: [RunService, SyncEngine, RunReaper, UploadService],
})
export class SyncModule {}
