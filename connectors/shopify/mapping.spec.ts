import { emailConsent, mapCustomer, mapOrder } from './mapping.js';
import type { ShopifyCustomer, ShopifyOrder } from './shopify.types.js';

const customer: ShopifyCustomer = {
  id: 207119551,
  email: 'Bob.Norman@mail.example.com',
  phone: '+16136120707',
  first_name: 'Bob',
  last_name: 'Norman',
  updated_at: '2024-05-01T10:00:00-04:00',
  orders_count: 3,
  total_spent: '199.65',
  email_marketing_consent: { state: 'subscribed', consent_updated_at: '2024-04-01T10:00:00-04:00' },
  default_address: { country_code: 'ca' },
};

const order: ShopifyOrder = {
  id: 450789469,
  name: '#1001',
  email: 'bob.norman@mail.example.com',
  created_at: '2024-05-02T09:00:00-04:00',
  updated_at: '2024-05-03T09:00:00-04:00',
  currency: 'CAD',
  total_price: '59.90',
  subtotal_price: '49.90',
  total_tax: '10.00',
  financial_status: 'paid',
  customer: { id: 207119551, email: 'bob.norman@mail.example.com', phone: null },
  line_items: [
    { product_id: 632910392, variant_id: 808950810, title: 'IPod Nano', sku: 'IPOD2008', quantity: 2, price: '24.95' },
  ],
};

describe('shopify mapping', () => {
  it('maps a customer to identifiers, traits with roll-ups, consent and country', () => {
    expect(mapCustomer(customer, 'src_1')).toEqual({
      identifiers: [
        { type: 'email', value: 'Bob.Norman@mail.example.com' },
        { type: 'phone', value: '+16136120707' },
        { type: 'external_id', value: 'src_1:customer:207119551' },
      ],
      traits: { firstName: 'Bob', lastName: 'Norman', country: 'CA', ordersCount: 3, totalSpent: 199.65 },
      consent: { email: true },
      observedAt: '2024-05-01T14:00:00.000Z',
      country: 'CA',
    });
  });

  it('reads email marketing consent states, falling back to accepts_marketing', () => {
    const with_ = (state: string | null, accepts?: boolean) =>
      emailConsent({
        ...customer,
        email_marketing_consent: state === null ? null : { state },
        accepts_marketing: accepts,
      });
    expect([with_('subscribed'), with_('unsubscribed'), with_('not_subscribed'), with_('pending')]).toEqual([
      true,
      false,
      false,
      undefined,
    ]);
    expect([with_(null, true), with_(null, false), with_(null)]).toEqual([true, false, undefined]);
  });

  it('keeps a customer without email or phone by its external id', () => {
    expect(mapCustomer({ ...customer, email: null, phone: '' }, 's').identifiers).toEqual([
      { type: 'external_id', value: 's:customer:207119551' },
    ]);
  });

  it('refuses malformed customers with the reason', () => {
    expect(() => mapCustomer({ ...customer, updated_at: 'not-a-date' }, 's')).toThrow(
      /customer 207119551: updated_at is not a date/,
    );
    expect(() => mapCustomer({ ...customer, email: 42 as unknown as string }, 's')).toThrow(
      /email is not a string: 42/,
    );
    expect(() => mapCustomer({ ...customer, total_spent: 'lots' }, 's')).toThrow(/total_spent is not an amount/);
  });

  it('maps an order to an Order Completed event on the customer, with items, and lastOrderAt', () => {
    expect(mapOrder(order, 'src_1')).toEqual({
      identifiers: [
        { type: 'email', value: 'bob.norman@mail.example.com' },
        { type: 'external_id', value: 'src_1:customer:207119551' },
      ],
      traits: { lastOrderAt: '2024-05-02T13:00:00.000Z' },
      events: [
        {
          name: 'Order Completed',
          occurredAt: '2024-05-02T13:00:00.000Z',
          id: '450789469',
          properties: {
            orderId: '450789469',
            orderNumber: '#1001',
            total: 59.9,
            subtotal: 49.9,
            tax: 10,
            currency: 'CAD',
            financialStatus: 'paid',
            items: [
              {
                productId: '632910392',
                variantId: '808950810',
                sku: 'IPOD2008',
                name: 'IPod Nano',
                quantity: 2,
                price: 24.95,
              },
            ],
          },
        },
      ],
      observedAt: '2024-05-02T13:00:00.000Z',
    });
  });

  it('attaches a guest order by its email alone, and a cancelled order as Order Cancelled', () => {
    const guest = mapOrder({ ...order, customer: null }, 's');
    expect(guest.identifiers).toEqual([{ type: 'email', value: 'bob.norman@mail.example.com' }]);
    const cancelled = mapOrder({ ...order, cancelled_at: '2024-05-04T09:00:00-04:00' }, 's');
    expect(cancelled.events).toEqual([
      expect.objectContaining({
        name: 'Order Cancelled',
        id: '450789469:cancelled',
        occurredAt: '2024-05-04T13:00:00.000Z',
      }),
    ]);
  });

  it('refuses an order with nobody to attach it to', () => {
    expect(() => mapOrder({ ...order, email: null, customer: null }, 's')).toThrow(
      /order 450789469 has no customer, email or phone/,
    );
  });
});
