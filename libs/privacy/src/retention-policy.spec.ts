import { DEFAULT_RETENTION_POLICY, parseRetentionPolicy } from './retention-policy.js';

describe('parseRetentionPolicy', () => {
  it('keeps the settings not sent and accepts null to keep data', () => {
    const parsed = parseRetentionPolicy(
      { eventsDays: 395, quarantineDays: null, ledgerDays: null },
      DEFAULT_RETENTION_POLICY,
    );
    expect(parsed).toEqual({
      policy: { ...DEFAULT_RETENTION_POLICY, eventsDays: 395, quarantineDays: null, ledgerDays: null },
    });
  });

  it('names every bad or unknown field', () => {
    const parsed = parseRetentionPolicy(
      { eventsDays: 0, exportsDays: null, ledgerDays: 1.5, deleteEmptyProfiles: 'yes', batchSize: 5, colour: 'red' },
      DEFAULT_RETENTION_POLICY,
    );
    expect('problems' in parsed && parsed.problems.map((p) => p.field).sort()).toEqual([
      'batchSize',
      'colour',
      'deleteEmptyProfiles',
      'eventsDays',
      'exportsDays',
      'ledgerDays',
    ]);
  });

  it('refuses a body that is not an object', () => {
    expect(parseRetentionPolicy([1], DEFAULT_RETENTION_POLICY)).toEqual({
      problems: [{ field: 'body', problems: ['must be a JSON object'] }],
    });
  });
});
