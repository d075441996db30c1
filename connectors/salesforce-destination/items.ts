import type { ActivationMember, TraitValue } from '@plexus/sdk';
import type { SalesforceDestinationConfig, TargetObject } from './config.js';

/** A Salesforce record id a source synced: `<sourceId>:contact:<Id>` or `<sourceId>:lead:<Id>`. */
export interface RecordRef {
  sourceId: string;
  object: TargetObject;
  id: string;
}

/** One person to write: the record ids Salesforce sources synced for them, their user_id, their traits. */
export interface SalesforceItem {
  profileId: string;
  records: RecordRef[];
  userId?: string;
  traits: Record<string, TraitValue>;
}

const RECORD_KEY = /^(.+):(contact|lead):([a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?)$/;
const PREFIX: Record<TargetObject, string> = { Contact: '003', Lead: '00Q' };

/** Pure: the member's Salesforce record ids (from external ids) and user_id; null when it has neither. */
export function toSalesforceItem(member: ActivationMember): SalesforceItem | null {
  const records: RecordRef[] = [];
  let userId: string | undefined;
  for (const identifier of member.identifiers) {
    if (identifier.type === 'user_id' && userId === undefined && identifier.value !== '') userId = identifier.value;
    if (identifier.type !== 'external_id') continue;
    const match = RECORD_KEY.exec(identifier.value);
    if (!match) continue;
    const object: TargetObject = match[2] === 'contact' ? 'Contact' : 'Lead';
    if (match[3].startsWith(PREFIX[object])) records.push({ sourceId: match[1], object, id: match[3] });
  }
  if (records.length === 0 && userId === undefined) return null;
  return { profileId: member.profileId, records, ...(userId === undefined ? {} : { userId }), traits: member.traits };
}

/** How an item is found in Salesforce: its record id, or its user_id in the external id field. */
export type RecordKey = { id: string } | { externalId: string };

/** The key of an item under this configuration; undefined when it has none the configuration can use. */
export function keyOf(item: SalesforceItem, config: SalesforceDestinationConfig): RecordKey | undefined {
  const ref = item.records.find(
    (r) => r.object === config.object && (config.sourceId === undefined || r.sourceId === config.sourceId),
  );
  if (ref) return { id: ref.id };
  if (config.externalIdField && item.userId !== undefined) return { externalId: item.userId };
  return undefined;
}

/** A trait as a field value: scalars as they are, lists as a multi-select picklist (`a;b`), objects as JSON. */
function fieldValue(value: TraitValue): string | number | boolean | null {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
    return value.join(';');
  return JSON.stringify(value);
}

/** The mapped traits the item has, as `{ field: value }`. */
export function fieldsOf(
  item: SalesforceItem,
  config: SalesforceDestinationConfig,
): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [trait, field] of Object.entries(config.fields ?? {})) {
    if (trait in item.traits) out[field] = fieldValue(item.traits[trait]);
  }
  return out;
}
