import type { IdentifierType, TraitValue } from '@plexus/sdk';

/** One identifier of a profile, with when and where it was first and last seen. */
export interface ProfileIdentifier {
  type: IdentifierType;
  value: string;
  sourceId: string;
  firstSeen: Date;
  lastSeen: Date;
}

/** A trait's current value and where it came from. */
export interface TraitWithProvenance {
  value: TraitValue;
  sourceId: string;
  observedAt: Date;
  expiresAt?: Date;
}

/** The canonical profile: one person, with everything the hub knows about them. */
export interface Profile {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  /** Set when this profile was merged into another; the other one is the live profile. */
  mergedInto: string | null;
  identifiers: ProfileIdentifier[];
  traits: Record<string, TraitWithProvenance>;
  /** Consent per purpose, latest observation wins. */
  consent: Record<string, { granted: boolean; sourceId: string; observedAt: Date }>;
}
