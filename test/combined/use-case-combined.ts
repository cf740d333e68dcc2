/**
 * The use case's customers as one combined table: the CRM (`crm_business_information`, source
 * `crm`) and invoicing (`invoice_customers`, source `invoicing`), matched loosely on business name.
 * Every call answers fresh objects, so a test may edit what it gets.
 */

/** How both members match: business names trimmed, lower-cased and with whitespace collapsed. */
export const USE_CASE_MATCH = { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] };

export type UseCaseMember = { name: string; source: string; table: string; match?: unknown };
export type UseCaseColumn = { name: string; owners: unknown[] };
export type UseCaseDefinition = {
  name: string;
  members: UseCaseMember[];
  columns: UseCaseColumn[];
  [property: string]: unknown;
};

/** The two members, crm first, each matching on `USE_CASE_MATCH`. */
export function useCaseMembers(): UseCaseMember[] {
  return [
    { name: 'crm', source: 'crm', table: 'crm_business_information', match: { ...USE_CASE_MATCH } },
    { name: 'invoicing', source: 'invoicing', table: 'invoice_customers', match: { ...USE_CASE_MATCH } },
  ];
}

/** `business_name`, owned by both members. */
export function businessNameColumn(): UseCaseColumn {
  return { name: 'business_name', owners: ['crm.business_name', 'invoicing.business_name'] };
}

/** `email`, owned by both members. */
export function emailColumn(): UseCaseColumn {
  return { name: 'email', owners: ['crm.email', 'invoicing.email'] };
}

type PhoneTransforms = { read?: string; write?: string };

/**
 * `phone`: text in the CRM, a number in invoicing. Each test gives its own transforms (they differ
 * on purpose); a CRM owner given as a string is used as is (`'crm.phone'`).
 */
export function phoneColumn(crm: string | PhoneTransforms, invoicing: PhoneTransforms): UseCaseColumn {
  return {
    name: 'phone',
    owners: [
      typeof crm === 'string' ? crm : { member: 'crm', column: 'phone', ...crm },
      { member: 'invoicing', column: 'phone', ...invoicing },
    ],
  };
}

/**
 * The combined customers named `name`: both members, then `business_name` and `email`, then
 * `columns`; `extra` adds top-level properties (join, inserts, deletes, links...).
 */
export function useCaseCombined(
  name: string,
  columns: UseCaseColumn[],
  extra: Record<string, unknown> = {},
): UseCaseDefinition {
  return {
    name,
    members: useCaseMembers(),
    columns: [businessNameColumn(), emailColumn(), ...columns],
    ...extra,
  };
}
