import type { StageInfo } from './crm-lookups.js';
import { dealTraits, mapDeal, mapEngagement, mapTicket, ticketTraits, type DealRecord } from './crm.mapping.js';
import type { HubSpotRecord } from './mapping.js';

const DEAL_STAGES: Record<string, StageInfo> = {
  qualifiedtobuy: { label: 'Qualified To Buy', closed: false, won: false },
  contractsent: { label: 'Contract Sent', closed: false, won: false },
  closedwon: { label: 'Closed Won', closed: true, won: true },
  closedlost: { label: 'Closed Lost', closed: true, won: false },
};
const TICKET_STAGES: Record<string, StageInfo> = {
  '1': { label: 'New', closed: false, won: false },
  '4': { label: 'Closed', closed: true, won: false },
};

const record = (id: string, properties: Record<string, string | null>): HubSpotRecord => ({
  id,
  properties,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
  archived: false,
});

function wonDeal(): DealRecord {
  return {
    kind: 'deal',
    id: '7',
    deal: {
      ...record('7', {
        dealname: 'Renewal',
        amount: '1500.5',
        deal_currency_code: 'EUR',
        pipeline: 'default',
        dealstage: 'closedwon',
        closedate: null,
        createdate: '2026-01-01T00:00:00.000Z',
      }),
      propertiesWithHistory: {
        dealstage: [
          { value: 'closedwon', timestamp: '2026-02-15T00:00:00.000Z' },
          { value: 'contractsent', timestamp: '2026-02-01T00:00:00.000Z' },
          { value: 'qualifiedtobuy', timestamp: '2026-01-01T00:00:00.000Z' },
        ],
      },
    },
    contactIds: ['1', '2', '1'],
    lineItems: [record('70', { name: 'Seats', hs_sku: 'S-1', quantity: '3', price: '500.1', amount: '1500.3' })],
    stages: DEAL_STAGES,
    contactTraits: { '1': { lifetime_deal_value: 1620.54, won_deals: 1 } },
    companyCurrency: 'USD',
    observedAt: '2026-03-02T00:00:00.000Z',
  };
}

describe('HubSpot deal mapping', () => {
  it('puts Deal Created, each stage change and Deal Won with its line items on every associated contact', () => {
    const [first, second, ...rest] = mapDeal(wonDeal(), 'src');
    expect(rest).toEqual([]);
    expect(first.identifiers).toEqual([{ type: 'external_id', value: 'src:contact:1' }]);
    expect(second.identifiers).toEqual([{ type: 'external_id', value: 'src:contact:2' }]);
    expect(first.traits).toEqual({ lifetime_deal_value: 1620.54, won_deals: 1 });
    expect(second.traits).toBeUndefined();
    expect(first.observedAt).toBe('2026-03-02T00:00:00.000Z');
    const base = { dealId: '7', dealName: 'Renewal', pipeline: 'default', amount: 1500.5, currency: 'EUR' };
    expect(first.events).toEqual([
      {
        name: 'Deal Created',
        occurredAt: '2026-01-01T00:00:00.000Z',
        id: 'deal:7:created:contact:1',
        properties: { ...base, stage: 'closedwon', stageLabel: 'Closed Won' },
      },
      {
        name: 'Deal Stage Changed',
        occurredAt: '2026-02-01T00:00:00.000Z',
        id: `deal:7:stage:contractsent:${Date.parse('2026-02-01T00:00:00.000Z')}:contact:1`,
        properties: { ...base, stage: 'contractsent', stageLabel: 'Contract Sent', previousStage: 'qualifiedtobuy' },
      },
      expect.objectContaining({ name: 'Deal Stage Changed', occurredAt: '2026-02-15T00:00:00.000Z' }),
      {
        name: 'Deal Won',
        // No closedate: the time the deal entered its closed stage.
        occurredAt: '2026-02-15T00:00:00.000Z',
        id: 'deal:7:won:contact:1',
        properties: {
          ...base,
          stage: 'closedwon',
          stageLabel: 'Closed Won',
          products: [{ name: 'Seats', sku: 'S-1', quantity: 3, price: 500.1, amount: 1500.3 }],
        },
      },
    ]);
    expect(second.events!.map((e) => e.id)).toContain('deal:7:won:contact:2');
  });

  it('reports a lost deal at its close date, and nothing for a deal without contacts', () => {
    const lost = wonDeal();
    lost.deal.properties = { ...lost.deal.properties, dealstage: 'closedlost', closedate: '2026-02-20T00:00:00Z' };
    lost.deal.propertiesWithHistory = undefined;
    const [profile] = mapDeal(lost, 'src');
    expect(profile.events!.map((e) => e.name)).toEqual(['Deal Created', 'Deal Lost']);
    expect(profile.events![1].occurredAt).toBe('2026-02-20T00:00:00.000Z');
    expect(mapDeal({ ...wonDeal(), contactIds: [] }, 'src')).toEqual([]);
  });

  it('rejects an unreadable deal with the reason', () => {
    const broken = wonDeal();
    broken.deal.properties = null;
    expect(() => mapDeal(broken, 'src')).toThrow('deal 7: properties are missing (null)');
    const badDate = wonDeal();
    badDate.deal.properties = { ...badDate.deal.properties, closedate: 'soon' };
    expect(() => mapDeal(badDate, 'src')).toThrow('deal 7: closedate is not a date ("soon")');
  });

  it('sums won deals in the account currency and counts open, won and lost deals', () => {
    const deals = [
      record('1', { dealstage: 'closedwon', amount: '100', deal_currency_code: 'EUR', amount_in_home_currency: '108' }),
      record('2', { dealstage: 'closedwon', amount: '50.25', deal_currency_code: 'USD' }),
      // Another currency and no converted amount: counted as won, but its value cannot be added.
      record('3', { dealstage: 'closedwon', amount: '70', deal_currency_code: 'GBP' }),
      record('4', { dealstage: 'closedlost', amount: '999' }),
      record('5', { dealstage: 'contractsent', amount: '10' }),
    ];
    expect(dealTraits(deals, DEAL_STAGES, 'USD')).toEqual({
      lifetime_deal_value: 158.25,
      lifetime_deal_value_currency: 'USD',
      won_deals: 3,
      lost_deals: 1,
      open_deals: 1,
    });
  });
});

describe('HubSpot ticket and engagement mapping', () => {
  it('opens and closes tickets with priority and stage, and counts open tickets', () => {
    const ticket = record('9', {
      subject: 'Broken',
      hs_pipeline: '0',
      hs_pipeline_stage: '4',
      hs_ticket_priority: 'HIGH',
      closed_date: '2026-01-03T00:00:00.000Z',
      createdate: '2026-01-02T00:00:00.000Z',
    });
    const [profile] = mapTicket(
      {
        kind: 'ticket',
        id: '9',
        ticket: {
          ...ticket,
          propertiesWithHistory: {
            hs_pipeline_stage: [
              { value: '4', timestamp: '2026-01-03T00:00:00Z' },
              { value: '1', timestamp: '2026-01-02T00:00:00Z' },
            ],
          },
        },
        contactIds: ['3'],
        stages: TICKET_STAGES,
        contactTraits: { '3': { open_tickets: 0 } },
        observedAt: '2026-03-02T00:00:00.000Z',
      },
      'src',
    );
    const base = { ticketId: '9', subject: 'Broken', priority: 'HIGH', pipeline: '0' };
    expect(profile).toEqual({
      identifiers: [{ type: 'external_id', value: 'src:contact:3' }],
      events: [
        {
          name: 'Ticket Opened',
          occurredAt: '2026-01-02T00:00:00.000Z',
          id: 'ticket:9:opened:contact:3',
          properties: { ...base, stage: '1', stageLabel: 'New' },
        },
        {
          name: 'Ticket Closed',
          occurredAt: '2026-01-03T00:00:00.000Z',
          id: `ticket:9:closed:${Date.parse('2026-01-03T00:00:00Z')}:contact:3`,
          properties: { ...base, stage: '4', stageLabel: 'Closed' },
        },
      ],
      traits: { open_tickets: 0 },
      observedAt: '2026-03-02T00:00:00.000Z',
    });
    expect(
      ticketTraits(
        [record('1', { hs_pipeline_stage: '1' }), record('2', { hs_pipeline_stage: '4' }), record('3', {})],
        TICKET_STAGES,
      ),
    ).toEqual({ open_tickets: 2 });
  });

  it('names email events by direction and dates engagements by hs_timestamp', () => {
    const email = record('5', {
      hs_timestamp: '2026-02-02T10:00:00Z',
      hs_email_subject: 'Hello',
      hs_email_direction: 'INCOMING_EMAIL',
    });
    expect(
      mapEngagement({ kind: 'engagement', id: '5', type: 'emails', engagement: email, contactIds: ['8'] }, 'src'),
    ).toEqual([
      {
        identifiers: [{ type: 'external_id', value: 'src:contact:8' }],
        events: [
          {
            name: 'Email Received',
            occurredAt: '2026-02-02T10:00:00.000Z',
            id: 'email:5:contact:8',
            properties: { emailId: '5', subject: 'Hello', direction: 'INCOMING_EMAIL' },
          },
        ],
      },
    ]);
    const call = record('6', {
      hs_timestamp: '2026-02-03T10:00:00Z',
      hs_call_duration: '61000',
      hs_call_direction: 'OUTBOUND',
    });
    const [mapped] = mapEngagement(
      { kind: 'engagement', id: '6', type: 'calls', engagement: call, contactIds: ['8'] },
      'src',
    );
    expect(mapped.events![0]).toMatchObject({ name: 'Call Logged', properties: { callId: '6', durationMs: 61000 } });
  });
});
