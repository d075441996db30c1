import { Writable } from 'node:stream';
import pg from 'pg';
import { POSTGRES_ADMIN_URL } from '../../../test/support/database.js';
import { createRootLogger, PinoLoggerService, redactUrl } from './logger.js';

function capture(): { lines: string[]; logger: PinoLoggerService } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, logger: new PinoLoggerService(createRootLogger('info', sink)) };
}

describe('logs without personal data', () => {
  it('keeps the type of a looked-up identifier and drops personal query values', () => {
    expect(redactUrl('/v1/profiles?identifier=email:alice%40example.io&limit=5')).toBe(
      '/v1/profiles?identifier=email:[redacted]&limit=5',
    );
    expect(redactUrl('/v1/profiles?identifier=phone%3A%2B4420&x=1')).toBe(
      '/v1/profiles?identifier=phone:[redacted]&x=1',
    );
    expect(redactUrl('/v1/x?email=a@b.io&userId=u1&after=abc')).toBe(
      '/v1/x?email=[redacted]&userId=[redacted]&after=abc',
    );
    expect(redactUrl('/v1/sources')).toBe('/v1/sources');
  });

  it('logs a real PostgreSQL error with its code and table, never the statement parameters', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    let error: unknown;
    try {
      await client.query('create temporary table people (email text primary key)');
      await client.query('insert into people values ($1)', ['alice@example.io']);
      await client.query('insert into people values ($1)', ['alice@example.io']);
    } catch (e) {
      error = e;
    }
    let cast: unknown;
    try {
      await client.query('select $1::uuid', ['bob@example.io']);
    } catch (e) {
      cast = e;
    } finally {
      await client.end();
    }
    // What PostgreSQL puts in the error itself: the duplicate value in `detail`, the cast input in the message.
    expect((error as { detail?: string }).detail).toContain('alice@example.io');
    expect((cast as Error).message).toContain('bob@example.io');
    const { lines, logger } = capture();
    logger.error(error, 'Http');
    logger.error(cast, 'Http');
    const text = lines.join('\n');
    expect(text).not.toContain('alice@example.io');
    expect(text).not.toContain('bob@example.io');
    const first = JSON.parse(lines[0]) as { err: Record<string, unknown> };
    expect(first.err).toMatchObject({ code: '23505', table: 'people', constraint: 'people_pkey' });
    expect(JSON.parse(lines[1]).err).toMatchObject({ code: '22P02', message: expect.stringContaining('uuid') });
  });

  it('logs other errors in full', () => {
    const { lines, logger } = capture();
    logger.error(new Error('plain failure'), 'Ctx');
    expect(JSON.parse(lines[0]).err).toMatchObject({ type: 'Error', message: 'plain failure' });
  });
});
