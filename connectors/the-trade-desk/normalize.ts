import { isZeroedDeviceId, type ActivationMember } from '@plexus/sdk';

/** One TTD user: a device advertising id (`DAID`) or a TTD cookie id (`TDID`), raw. */
export interface TtdItem {
  idType: 'DAID' | 'TDID';
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A member as one TTD item: the first device id as `DAID` (lower-case, the zeroed id dropped), else the first
 * cookie id that is a TTD id (a UUID) as `TDID`. Other cookies belong to other platforms: null.
 */
export function toTtdItem(member: ActivationMember): TtdItem | null {
  for (const identifier of member.identifiers) {
    const value = identifier.value.trim().toLowerCase();
    if (identifier.type === 'device_id' && UUID.test(value) && !isZeroedDeviceId(value))
      return { idType: 'DAID', id: value };
  }
  for (const identifier of member.identifiers) {
    const value = identifier.value.trim().toLowerCase();
    if (identifier.type === 'cookie_id' && UUID.test(value)) return { idType: 'TDID', id: value };
  }
  return null;
}
