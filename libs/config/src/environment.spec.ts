import { ConfigError, loadEnvironment, trustProxySetting } from './environment.js';

describe('loadEnvironment', () => {
  it('applies the documented defaults when nothing is set', () => {
    const env = loadEnvironment({});
    expect(env.PORT).toBe(3000);
    expect(env.DATA_DIR).toBe('./.plexus');
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.QUEUE_PREFIX).toBe('plexus');
    expect(env.RUN_WORKERS).toBe(true);
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('has secure defaults for the security settings', () => {
    const env = loadEnvironment({});
    expect(env.METRICS_PUBLIC).toBe(false);
    expect(env.TRUST_PROXY).toBe('loopback, linklocal, uniquelocal');
    expect(env.AUTH_FAILURE_LIMIT).toBe(20);
    expect(env.AUTH_FAILURE_WINDOW_SECONDS).toBe(300);
    expect(env.WRITE_KEY_RATE_LIMIT).toBe(2000);
    expect(() => loadEnvironment({ AUTH_FAILURE_LIMIT: '0' })).toThrow(/AUTH_FAILURE_LIMIT/);
    expect(loadEnvironment({ WRITE_KEY_RATE_LIMIT: '0', METRICS_PUBLIC: 'true' })).toMatchObject({
      WRITE_KEY_RATE_LIMIT: 0,
      METRICS_PUBLIC: true,
    });
  });

  it('reads the activation lease, at least a second', () => {
    expect(loadEnvironment({}).ACTIVATION_LEASE_MS).toBe(120000);
    expect(loadEnvironment({ ACTIVATION_LEASE_MS: '5000' }).ACTIVATION_LEASE_MS).toBe(5000);
    expect(() => loadEnvironment({ ACTIVATION_LEASE_MS: '10' })).toThrow(/ACTIVATION_LEASE_MS/);
  });

  it('reads TRUST_PROXY as Express does', () => {
    expect(trustProxySetting('true')).toBe(true);
    expect(trustProxySetting('False')).toBe(false);
    expect(trustProxySetting('2')).toBe(2);
    expect(trustProxySetting('10.0.0.0/8, loopback')).toBe('10.0.0.0/8, loopback');
    expect(loadEnvironment({ TRUST_PROXY: '10.0.0.0/8, ::1' }).TRUST_PROXY).toBe('10.0.0.0/8, ::1');
    expect(() => loadEnvironment({ TRUST_PROXY: 'every; one' })).toThrow(/TRUST_PROXY/);
  });

  it('converts numbers and booleans', () => {
    const env = loadEnvironment({ PORT: '8080', RUN_WORKERS: 'false', WORKER_CONCURRENCY: '2' });
    expect(env.PORT).toBe(8080);
    expect(env.RUN_WORKERS).toBe(false);
    expect(env.WORKER_CONCURRENCY).toBe(2);
    expect(env.DATABASE_PARALLEL_READS).toBe(2);
    expect(loadEnvironment({ DATABASE_PARALLEL_READS: '0' }).DATABASE_PARALLEL_READS).toBe(0);
    expect(() => loadEnvironment({ DATABASE_PARALLEL_READS: 'many' })).toThrow(/DATABASE_PARALLEL_READS/);
    expect(env.DATABASE_PREPARED_STATEMENTS).toBe(true);
    expect(loadEnvironment({ DATABASE_PREPARED_STATEMENTS: 'false' }).DATABASE_PREPARED_STATEMENTS).toBe(false);
    expect(() => loadEnvironment({ DATABASE_PREPARED_STATEMENTS: 'maybe' })).toThrow(/DATABASE_PREPARED_STATEMENTS/);
  });

  it('reads the HTTP budget of connectors and refuses one that would never wait or never stop', () => {
    expect(loadEnvironment({})).toMatchObject({
      CONNECTOR_TIMEOUT_MS: 30000,
      CONNECTOR_RETRIES: 5,
      CONNECTOR_BACKOFF_MS: 500,
    });
    const quick = loadEnvironment({ CONNECTOR_TIMEOUT_MS: '1500', CONNECTOR_RETRIES: '0', CONNECTOR_BACKOFF_MS: '50' });
    expect(quick).toMatchObject({ CONNECTOR_TIMEOUT_MS: 1500, CONNECTOR_RETRIES: 0, CONNECTOR_BACKOFF_MS: 50 });
    expect(() => loadEnvironment({ CONNECTOR_TIMEOUT_MS: '0' })).toThrow(/CONNECTOR_TIMEOUT_MS/);
    expect(() => loadEnvironment({ CONNECTOR_RETRIES: '100' })).toThrow(/CONNECTOR_RETRIES/);
    expect(() => loadEnvironment({ CONNECTOR_BACKOFF_MS: 'soon' })).toThrow(/CONNECTOR_BACKOFF_MS/);
  });

  it('names every bad variable in one error and hides sensitive values', () => {
    let error: unknown;
    try {
      loadEnvironment({
        PORT: 'eighty',
        REDIS_URL: 'localhost:6379',
        PLEXUS_MASTER_KEY: 'short-secret',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT="eighty"/m);
    expect(problems).toMatch(/^REDIS_URL="localhost:6379": REDIS_URL must be a redis/m);
    expect(problems).toMatch(/^PLEXUS_MASTER_KEY=\(hidden\)/m);
    expect(problems).not.toContain('short-secret');
    expect(problems).toMatch(/^LOG_LEVEL/m);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('treats empty strings as unset', () => {
    expect(loadEnvironment({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  it('parses OUTBOUND_ALLOW and IMPORT_DIRS, and names bad allow-list entries', () => {
    const env = loadEnvironment({ OUTBOUND_ALLOW: '127.0.0.1, 10.0.0.0/8 minio:9000', IMPORT_DIRS: '/srv/a:/srv/b' });
    expect(env.OUTBOUND_ALLOW).toEqual(['127.0.0.1', '10.0.0.0/8', 'minio:9000']);
    expect(env.IMPORT_DIRS).toEqual(['/srv/a', '/srv/b']);
    expect(loadEnvironment({}).OUTBOUND_ALLOW).toEqual([]);
    expect(loadEnvironment({}).IMPORT_DIRS).toBeUndefined();
    expect(() => loadEnvironment({ OUTBOUND_ALLOW: '127.0.0.1,http://x/' })).toThrow(
      /OUTBOUND_ALLOW="127.0.0.1,http:\/\/x\/": .*bad: http:\/\/x\//,
    );
  });
});
