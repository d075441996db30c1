import type { ActivationMember, TraitValue } from '@plexus/sdk';

/** One contact to write: its email (the upsert key), its profile and its traits. */
export interface HubSpotContactItem {
  profileId: string;
  /** Trimmed and lower-cased, as HubSpot compares emails. */
  email: string;
  traits: Record<string, TraitValue>;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The member's first usable email with its traits; null without one. */
export function toContactItem(member: ActivationMember): HubSpotContactItem | null {
  for (const identifier of member.identifiers) {
    if (identifier.type !== 'email') continue;
    const email = identifier.value.trim().toLowerCase();
    if (EMAIL.test(email)) return { profileId: member.profileId, email, traits: { ...member.traits } };
  }
  return null;
}

/**
 * A trait value as a HubSpot property value (always a string): numbers and booleans as text, lists of scalars
 * joined with `;` (HubSpot's multi-value separator), objects as JSON; null and empty clear the property ('').
 */
export function propertyValue(value: TraitValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    return value.filter((v) => v !== null).join(';');
  }
  return JSON.stringify(value);
}

/** The contact properties of an item under a `trait → property` mapping; traits the member lacks are left out. */
export function contactProperties(item: HubSpotContactItem, mapping: Record<string, string>): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [trait, property] of Object.entries(mapping)) {
    if (Object.prototype.hasOwnProperty.call(item.traits, trait))
      properties[property] = propertyValue(item.traits[trait]);
  }
  return properties;
}
