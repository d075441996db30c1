import { ConflictError, DomainError, InvalidInputError, NotFoundError } from './domain-errors.js';

describe('domain errors', () => {
  it('name every offending field in one message and in details', () => {
    const error = InvalidInputError.fields([
      { field: 'config.token', problems: ['required'] },
      { field: 'schedule.tz', problems: ['unknown time zone', 'x'] },
    ]);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.kind).toBe('invalid');
    expect(error.message).toBe('Invalid request: config.token (required), schedule.tz (unknown time zone; x)');
    expect(error.details).toEqual([
      { field: 'config.token', problems: ['required'] },
      { field: 'schedule.tz', problems: ['unknown time zone', 'x'] },
    ]);
  });

  it('carry their kind and class name', () => {
    expect(new NotFoundError('No source src_1')).toMatchObject({ kind: 'not-found', name: 'NotFoundError' });
    expect(new ConflictError('busy', { runId: 'r' })).toMatchObject({ kind: 'conflict', details: { runId: 'r' } });
  });
});
