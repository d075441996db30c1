import type { Consent, ConsentPurpose } from '@plexus/sdk';
import { consentFromTcString } from './tcf.util.js';

/**
 * Consent-manager category names (lower-cased, letters and digits only) → our consent purpose. Covers the
 * Segment consent spec's usual categories, Google consent mode keys and common CMP wording; our own purpose
 * names map to themselves. `do not sell` style categories are inverted into `sale`.
 */
const CATEGORY_PURPOSE = new Map<string, { purpose: ConsentPurpose; inverted?: boolean }>();
const categories: Array<[ConsentPurpose, string[]]> = [
  [
    'ads',
    [
      'ads',
      'advertising',
      'marketing',
      'targeting',
      'adstorage',
      'aduserdata',
      'adpersonalization',
      'personalisedads',
      'personalizedads',
    ],
  ],
  ['analytics', ['analytics', 'performance', 'statistics', 'measurement', 'analyticsstorage']],
  ['personalization', ['personalization', 'personalisation', 'functional', 'preferences', 'personalizationstorage']],
  ['email', ['email', 'emailmarketing', 'newsletter']],
  ['sale', ['sale', 'datasale', 'saleofdata', 'sell']],
];
for (const [purpose, names] of categories) for (const name of names) CATEGORY_PURPOSE.set(name, { purpose });
for (const name of ['donotsell', 'donotsellorshare', 'optoutofsale'])
  CATEGORY_PURPOSE.set(name, { purpose: 'sale', inverted: true });

const key = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Folds one category decision in: a purpose named by several categories is granted only if all of them are. */
function apply(out: Consent, category: string, granted: boolean): void {
  const mapped = CATEGORY_PURPOSE.get(key(category));
  if (!mapped) return;
  const value = mapped.inverted ? !granted : granted;
  out[mapped.purpose] = out[mapped.purpose] === undefined ? value : out[mapped.purpose]! && value;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The TC string a message carries, wherever the usual libraries put it. */
export function tcStringOf(context: Record<string, unknown>): string | undefined {
  const consent = isObject(context.consent) ? context.consent : {};
  const tcf = consent.tcf;
  const candidates = [
    context.gdpr_consent,
    consent.tcString,
    consent.gdpr_consent,
    tcf,
    isObject(tcf) ? tcf.tcString : undefined,
  ];
  return candidates.find((c): c is string => typeof c === 'string' && c.length > 0);
}

/**
 * Per-purpose consent from a message's `context`: a TCF v2 string first (`context.gdpr_consent`,
 * `context.consent.tcString`, `context.consent.tcf`), then explicit categories, which win:
 * `context.consent.categoryPreferences` (Segment), RudderStack's `context.consentManagement`
 * (`allowedConsentIds` / `deniedConsentIds`), and booleans directly under `context.consent`.
 */
export function consentFromContext(context: Record<string, unknown>): Consent {
  const tc = tcStringOf(context);
  const out: Consent = tc ? consentFromTcString(tc) : {};
  const explicit: Consent = {};
  const consent = isObject(context.consent) ? context.consent : {};
  for (const [name, value] of Object.entries(consent)) if (typeof value === 'boolean') apply(explicit, name, value);
  if (isObject(consent.categoryPreferences))
    for (const [name, value] of Object.entries(consent.categoryPreferences))
      if (typeof value === 'boolean') apply(explicit, name, value);
  const managed = isObject(context.consentManagement) ? context.consentManagement : {};
  for (const [field, granted] of [
    ['allowedConsentIds', true],
    ['deniedConsentIds', false],
  ] as const) {
    const ids = managed[field];
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') apply(explicit, id, granted);
  }
  return { ...out, ...explicit };
}
