import { endToEndScenario } from './end-to-end.scenario.js';

describe('privacy end to end: CRM, shop, DMP feed and website → Meta and Google → delete (PostgreSQL)', () => {
  endToEndScenario('postgres');
});
