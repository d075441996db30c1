import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { outboundAllowProblems } from '@plexus/sdk';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';

/** Metadata shown in the README table and in error messages; `sensitive` values are never logged. */
export interface VariableInfo {
  description: string;
  default?: string;
  sensitive?: boolean;
}

export const ENVIRONMENT_VARIABLES: Record<string, VariableInfo> = {
  PORT: { description: 'HTTP port of the API', default: '3000' },
  HOST: { description: 'Interface the API listens on', default: '0.0.0.0' },
  DATA_DIR: { description: 'Folder for the embedded database and generated keys', default: './.plexus' },
  DATABASE_URL: { description: 'PostgreSQL URL; unset = embedded PGlite under DATA_DIR', sensitive: true },
  DATABASE_PARALLEL_READS: {
    description:
      'Connections that read parts of a full evaluation of many audiences at once on a large PostgreSQL database (0 or 1 = one statement)',
    default: '2',
  },
  DATABASE_PREPARED_STATEMENTS: {
    description:
      'Prepare the hottest statements once per connection on PostgreSQL (false behind a pooler that cannot keep them, e.g. PgBouncer before 1.21 in transaction mode)',
    default: 'true',
  },
  REDIS_URL: { description: 'Redis used by BullMQ and rate budgets', default: 'redis://127.0.0.1:6379' },
  QUEUE_PREFIX: { description: 'Prefix of every Redis key Plexus writes', default: 'plexus' },
  ADMIN_API_KEY: { description: 'Seeds an admin API key; unset = one is generated into DATA_DIR', sensitive: true },
  PLEXUS_MASTER_KEY: {
    description: 'Key that encrypts connector secrets (32 bytes, base64 or hex); unset = generated into DATA_DIR',
    sensitive: true,
  },
  RUN_WORKERS: { description: 'Run the job workers inside the API process', default: 'true' },
  WORKER_CONCURRENCY: { description: 'Jobs each worker queue runs at once', default: '4' },
  LOG_LEVEL: { description: 'fatal, error, warn, info, debug or trace', default: 'info' },
  BODY_LIMIT: { description: 'Largest accepted request body', default: '1mb' },
  SHUTDOWN_TIMEOUT_MS: { description: 'How long running jobs may finish on SIGTERM', default: '10000' },
  CONNECTORS_PATH: { description: 'Extra folders of connector plugins, separated by ":"' },
  OUTBOUND_ALLOW: {
    description:
      'Private, loopback or link-local destinations connectors may reach anyway: host names, IPs, CIDRs or host:port, comma-separated',
  },
  IMPORT_DIRS: {
    description: 'Folders (separated by ":") local import paths must lie in; DATA_DIR itself is never readable',
    default: 'DATA_DIR/imports',
  },
  JOB_LOCK_MS: {
    description: 'How long a worker holds a job before another may take it over if it stops answering',
    default: '30000',
  },
  TRUST_PROXY: {
    description:
      'Which proxies may set X-Forwarded-For/-Proto/-Host (Express "trust proxy": true, false, a hop count or a comma list of addresses, subnets and loopback/linklocal/uniquelocal)',
    default: 'loopback, linklocal, uniquelocal',
  },
  METRICS_PUBLIC: { description: 'Serve /metrics without an API key', default: 'false' },
  WORKER_METRICS_PORT: {
    description:
      'Port on which a worker process (npm run start:worker) serves GET /metrics, without authentication; unset = none',
  },
  AUTH_FAILURE_LIMIT: {
    description: 'Failed authentications a client address may make per AUTH_FAILURE_WINDOW_SECONDS before 429',
    default: '20',
  },
  AUTH_FAILURE_WINDOW_SECONDS: {
    description: 'Window of AUTH_FAILURE_LIMIT, and how long an address that exceeded it is refused',
    default: '300',
  },
  WRITE_KEY_RATE_LIMIT: {
    description: 'Tracking requests per second accepted per write key (0 = no limit)',
    default: '2000',
  },
  UPLOAD_LIMIT: { description: 'Largest file accepted by POST /v1/sources/:id/upload (larger → 413)', default: '1gb' },
  RUN_STALE_MS: {
    description: 'A run without a heartbeat for this long whose job is gone is requeued by the reaper',
    default: '300000',
  },
  RUN_REAPER_INTERVAL_MS: { description: 'How often the reaper looks for stuck runs', default: '60000' },
  RUN_MAX_RECOVERIES: { description: 'Times the reaper requeues a run before failing it', default: '3' },
  ACTIVATION_LEASE_MS: {
    description: 'How long a worker holds an activation without renewing its lease; another takes over after a crash',
    default: '120000',
  },
  CONNECTOR_TIMEOUT_MS: {
    description: "How long a connector's HTTP request waits for an answer before it is retried",
    default: '30000',
  },
  CONNECTOR_RETRIES: {
    description: "Retries of a connector's HTTP request after a throttle, 5xx, timeout or cut-short answer",
    default: '5',
  },
  CONNECTOR_BACKOFF_MS: {
    description: 'First backoff step of those retries (doubling, with jitter), unless the vendor says when',
    default: '500',
  },
};

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Bytes in a size such as `512kb`, `1mb` or `2gb` (units of 1,024). */
export function parseByteSize(size: string): number {
  const m = /^(\d+)(b|kb|mb|gb)$/i.exec(size.trim());
  if (!m) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
}

const toBool = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? ['true', '1', 'yes'].includes(value.toLowerCase())
      ? true
      : ['false', '0', 'no'].includes(value.toLowerCase())
        ? false
        : value
    : value;
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/** Every environment variable Plexus reads, validated once at boot. */
export class Environment {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  @IsString()
  @MinLength(1)
  DATA_DIR: string = './.plexus';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'QUEUE_PREFIX may hold only letters, digits, _, . and -' })
  QUEUE_PREFIX: string = 'plexus';

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_API_KEY must be at least 16 characters' })
  ADMIN_API_KEY?: string;

  @IsOptional()
  @Matches(/^([A-Za-z0-9+/]{43}=|[0-9a-fA-F]{64})$/, {
    message: 'PLEXUS_MASTER_KEY must be 32 bytes as base64 (44 characters) or hex (64 characters)',
  })
  PLEXUS_MASTER_KEY?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(32)
  DATABASE_PARALLEL_READS: number = 2;

  @Transform(toBool)
  @IsBoolean()
  DATABASE_PREPARED_STATEMENTS: boolean = true;

  @Transform(toBool)
  @IsBoolean()
  RUN_WORKERS: boolean = true;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  WORKER_CONCURRENCY: number = 4;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 512kb or 1mb' })
  BODY_LIMIT: string = '1mb';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS: number = 10000;

  @IsOptional()
  @IsString()
  CONNECTORS_PATH?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  JOB_LOCK_MS: number = 30000;

  @Matches(/^\s*[\w.:/]+(\s*,\s*[\w.:/]+)*\s*$/, {
    message: 'TRUST_PROXY must be true, false, a hop count, or addresses/subnets separated by commas',
  })
  TRUST_PROXY: string = 'loopback, linklocal, uniquelocal';

  @Transform(toBool)
  @IsBoolean()
  METRICS_PUBLIC: boolean = false;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  WORKER_METRICS_PORT?: number;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_FAILURE_LIMIT: number = 20;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  AUTH_FAILURE_WINDOW_SECONDS: number = 300;
  @Matches(/^\d+(b|kb|mb|gb)$/i, { message: 'UPLOAD_LIMIT must look like 500mb or 2gb' })
  UPLOAD_LIMIT: string = '1gb';

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  RUN_STALE_MS: number = 300000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  RUN_REAPER_INTERVAL_MS: number = 60000;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  ACTIVATION_LEASE_MS: number = 120000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  WRITE_KEY_RATE_LIMIT: number = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  RUN_MAX_RECOVERIES: number = 3;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  CONNECTOR_TIMEOUT_MS: number = 30000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(20)
  CONNECTOR_RETRIES: number = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  CONNECTOR_BACKOFF_MS: number = 500;

  /** Parsed from a comma- (or space-) separated list; empty = connectors reach public addresses only. */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(/[\s,]+/).filter((entry) => entry !== '') : value,
  )
  @ValidateBy({
    name: 'outboundAllow',
    validator: {
      validate: (value: unknown) =>
        Array.isArray(value) && value.every((v) => typeof v === 'string') && outboundAllowProblems(value).length === 0,
      defaultMessage: (args) =>
        `OUTBOUND_ALLOW entries must be host names, IPs, CIDRs or host:port (bad: ${outboundAllowProblems(
          Array.isArray(args?.value) ? (args.value as string[]) : [],
        ).join(', ')})`,
    },
  })
  OUTBOUND_ALLOW: string[] = [];

  /** Parsed from a ":"-separated list; unset = `DATA_DIR/imports`. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(':').filter((entry) => entry !== '') : value,
  )
  @ValidateBy({
    name: 'importDirs',
    validator: {
      validate: (value: unknown) =>
        Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && !v.includes('\0')),
      defaultMessage: () => 'IMPORT_DIRS must be one or more folders separated by ":"',
    },
  })
  IMPORT_DIRS?: string[];
}

/** Express's `trust proxy` setting from TRUST_PROXY: true/false, a hop count, or a list of addresses and subnets. */
export function trustProxySetting(value: string): boolean | number | string {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'false') return v === 'true';
  return /^\d+$/.test(v) ? Number(v) : value;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment. Throws one ConfigError naming every bad variable and why.
 * Empty strings count as unset, so `FOO=` behaves like no FOO at all.
 */
export function loadEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(ENVIRONMENT_VARIABLES)) {
    const value = source[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        const shown = ENVIRONMENT_VARIABLES[e.property]?.sensitive ? '(hidden)' : JSON.stringify(raw[e.property]);
        return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
      }),
    );
  }
  return env;
}
