import { IdentityGraphRepository, IdentityRulesRepository, ProfileRepository, type Database } from '@plexus/storage';
import { IdentityResolver, IdentityRulesService, IngestService, ProfileService } from '@plexus/identity';

/** The identity services wired by hand over one database (what IdentityModule does in the app). */
export function identityServices(database: Database): {
  ingest: IngestService;
  profiles: ProfileService;
  rules: IdentityRulesService;
} {
  const graphs = new IdentityGraphRepository();
  const rules = new IdentityRulesService(new IdentityRulesRepository(database));
  const ingest = new IngestService(database, rules, new IdentityResolver(graphs), graphs);
  const profiles = new ProfileService(database, new ProfileRepository(database), graphs, rules);
  return { ingest, profiles, rules };
}
