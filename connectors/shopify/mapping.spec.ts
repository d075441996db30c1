import { emailConsent, mapCustomer, mapOrder } from './mapping.js';
import type { ShopifyCustomerNode, ShopifyOrderNode } from './shopify.types.js';
import { customerNodeFromWebhook, orderNodeFromWebhook } from './webhook.js';

const customer: ShopifyCustomerNode = {
  id: 'gid://shopify/Customer/207119551',
  firstName: 'Bob',
  lastName: 'Norman',
  updatedAt: '2024-05-01T14:00:00Z',
  numberOfOrders: '3',
  amountSpent: { amount: '199.65', currencyCode: 'CAD' },
  defaultEmailAddress: { emailAddress: 'Bob.Norman@mail.example.com', marketingState: 'SUBSCRIBED' },
  defaultPhoneNumber: { phoneNumber: '+16136120707' },
  defaultAddress: { countryCodeV2: 'CA' },
};

const usd = (amount: string) => ({ shopMoney: { amount, currencyCode: 'CAD' } });

const order: ShopifyOrderNode = {
  id: 'gid://shopify/Order/450789469',
  name: '#1001',
  email: 'bob.norman@mail.example.com',
  createdAt: '2024-05-02T13:00:00Z',
  updatedAt: '2024-05-05T13:00:00Z',
  currencyCode: 'CAD',
  totalPriceSet: usd('59.90'),
  subtotalPriceSet: usd('49.90'),
  totalTaxSet: usd('10.00'),
  totalRefundedSet: usd('24.95'),
  displayFinancialStatus: 'PARTIALLY_REFUNDED',
  paymentGatewayNames: ['shopify_payments', 'gift_card'],
  customer: {
    id: 'gid://shopify/Customer/207119551',
    defaultEmailAddress: { emailAddress: 'bob.norman@mail.example.com' },
  },
  refunds: [
    { id: 'gid://shopify/Refund/509562969', createdAt: '2024-05-04T13:00:00Z', totalRefundedSet: usd('24.95') },
  ],
  lineItems: {
    nodes: [
      {
        id: 'gid://shopify/LineItem/466157049',
        title: 'IPod Nano',
        sku: 'IPOD2008',
        quantity: 2,
        product: { id: 'gid://shopify/Product/632910392' },
        variant: { id: 'gid://shopify/ProductVariant/808950810' },
        originalUnitPriceSet: usd('24.95'),
      },
    ],
  },
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

  it('reads email marketing states', () => {
    const state = (marketingState: string) =>
      emailConsent({ ...customer, defaultEmailAddress: { emailAddress: 'a@b.c', marketingState } });
    expect(['SUBSCRIBED', 'UNSUBSCRIBED', 'NOT_SUBSCRIBED', 'PENDING', 'INVALID'].map(state)).toEqual([
      true,
      false,
      false,
      undefined,
      undefined,
    ]);
    expect(emailConsent({ ...customer, defaultEmailAddress: null })).toBeUndefined();
  });

  it('keeps a customer without email or phone by its external id', () => {
    const bare = { ...customer, defaultEmailAddress: null, defaultPhoneNumber: { phoneNumber: '' } };
    expect(mapCustomer(bare, 's').identifiers).toEqual([{ type: 'external_id', value: 's:customer:207119551' }]);
  });

  it('refuses malformed customers with the reason', () => {
    expect(() => mapCustomer({ ...customer, updatedAt: 'not-a-date' }, 's')).toThrow(
      /customer 207119551: updatedAt is not a date/,
    );
    expect(() =>
      mapCustomer({ ...customer, defaultEmailAddress: { emailAddress: 42 as unknown as string } }, 's'),
    ).toThrow(/emailAddress is not a string: 42/);
    expect(() => mapCustomer({ ...customer, amountSpent: { amount: 'lots' } }, 's')).toThrow(
      /amountSpent.amount is not an amount/,
    );
    expect(() => mapCustomer({ ...customer, id: '207119551' }, 's')).toThrow(/customer without a Customer id/);
  });

  it('maps an order to Order Completed with items, payment gateways and the refunded amount, and each refund', () => {
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
            financialStatus: 'partially_refunded',
            paymentGateway: 'shopify_payments',
            paymentGateways: ['shopify_payments', 'gift_card'],
            refunded: 24.95,
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
        {
          name: 'Order Refunded',
          occurredAt: '2024-05-04T13:00:00.000Z',
          id: '450789469:refund:509562969',
          properties: { orderId: '450789469', refundId: '509562969', total: 24.95, currency: 'CAD' },
        },
      ],
      observedAt: '2024-05-02T13:00:00.000Z',
    });
  });

  it('attaches a guest order by its email alone, and a cancelled order as Order Cancelled', () => {
    const guest = mapOrder({ ...order, customer: null, refunds: [] }, 's');
    expect(guest.identifiers).toEqual([{ type: 'email', value: 'bob.norman@mail.example.com' }]);
    const cancelled = mapOrder({ ...order, refunds: [], cancelledAt: '2024-05-04T13:00:00Z' }, 's');
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

  it('maps a webhook (REST JSON) exactly as the same record read through GraphQL', () => {
    const restCustomer = {
      id: 207119551,
      email: 'Bob.Norman@mail.example.com',
      phone: '+16136120707',
      first_name: 'Bob',
      last_name: 'Norman',
      updated_at: '2024-05-01T10:00:00-04:00',
      orders_count: 3,
      total_spent: '199.65',
      currency: 'CAD',
      email_marketing_consent: { state: 'subscribed' },
      default_address: { country_code: 'CA' },
    };
    expect(mapCustomer(customerNodeFromWebhook(restCustomer), 'src_1')).toEqual(mapCustomer(customer, 'src_1'));
    expect(
      emailConsent(
        customerNodeFromWebhook({ ...restCustomer, email_marketing_consent: null, accepts_marketing: false }),
      ),
    ).toBe(false);
    const restOrder = {
      id: 450789469,
      name: '#1001',
      email: 'bob.norman@mail.example.com',
      created_at: '2024-05-02T09:00:00-04:00',
      updated_at: '2024-05-05T09:00:00-04:00',
      currency: 'CAD',
      total_price: '59.90',
      subtotal_price: '49.90',
      total_tax: '10.00',
      financial_status: 'partially_refunded',
      payment_gateway_names: ['shopify_payments', 'gift_card'],
      customer: { id: 207119551, email: 'bob.norman@mail.example.com' },
      refunds: [
        { id: 509562969, created_at: '2024-05-04T09:00:00-04:00', transactions: [{ amount: '24.95', kind: 'refund' }] },
      ],
      line_items: [
        {
          id: 466157049,
          product_id: 632910392,
          variant_id: 808950810,
          title: 'IPod Nano',
          sku: 'IPOD2008',
          quantity: 2,
          price: '24.95',
        },
      ],
    };
    expect(mapOrder(orderNodeFromWebhook(restOrder), 'src_1')).toEqual(mapOrder(order, 'src_1'));
  });
});
