import { describeSourceConformance } from '../index.js';
import source from './example-crm.connector.js';
import { FakeCrmApi, GOOD_TOKEN } from './fake-crm-api.js';
import { CONTACTS, EXPECTED_PROFILES } from './fixtures.js';

// The one-line conformance suite, as every connector runs it (here with the example's emulator).
const api = new FakeCrmApi();
api.contacts = structuredClone(CONTACTS);

describeSourceConformance({
  definition: source,
  setup: () => api.start(),
  teardown: () => api.stop(),
  config: () => ({ baseUrl: api.url, token: GOOD_TOKEN, pageSize: 3 }),
  invalidCredentials: () => ({ baseUrl: api.url, token: 'expired-token', pageSize: 3 }),
  streams: {
    contacts: {
      profiles: EXPECTED_PROFILES,
      recordCount: 7,
      addNewer: async () =>
        api.touch([
          { id: 'c8', email: 'hal@example.com', name: 'Hal' },
          { id: 'c2', email: 'bob@example.org', name: 'Bob' },
        ]),
    },
  },
  injectFault: (fault) => api.fixtureServer.injectFault(fault),
  pendingFaults: () => api.fixtureServer.pendingFaults(),
});
