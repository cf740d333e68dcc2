import type { ColumnSchema, PortableType, TableSchema } from '../../src/model/schema.js';

function column(name: string, type: PortableType, extra: Partial<ColumnSchema> = {}): ColumnSchema {
  return {
    name,
    type,
    nativeType: type,
    nullable: name !== 'id',
    defaultValue: null,
    autoIncrement: name === 'id',
    generated: false,
    ...extra,
  };
}

/** The use case's CRM table on MariaDB, as the introspector describes it. */
export const CRM_TABLE: TableSchema = {
  schema: null,
  name: 'crm_business_information',
  kind: 'table',
  columns: [
    column('id', 'integer'),
    column('business_name', 'string'),
    column('contact_name', 'string'),
    column('email', 'string'),
    column('phone', 'string'),
    column('category', 'string'),
    column('description', 'text'),
    column('name_upper', 'string', { generated: true }),
  ],
  primaryKey: ['id'],
  foreignKeys: [],
  uniqueIndexes: [],
};

/** The use case's invoicing table on PostgreSQL (phone BIGINT). */
export const INVOICING_TABLE: TableSchema = {
  schema: 'public',
  name: 'invoice_customers',
  kind: 'table',
  columns: [
    column('id', 'integer'),
    column('business_name', 'string'),
    column('email', 'string'),
    column('phone', 'bigint'),
    column('billing_cycle', 'string'),
  ],
  primaryKey: ['id'],
  foreignKeys: [],
  uniqueIndexes: [],
};

/** The issue's example body, character for character (only the source ids are placeholders). */
export const ISSUE_EXAMPLE = String.raw`{"name": "customer contacts",
 "members": [
   {"source": "<crm source id>", "table": "crm_business_information",
    "match": {"column": "business_name", "normalize": ["trim", "lower", "collapse_spaces"]},
    "fields": {"email": "email",
               "phone": {"column": "phone", "read": "value.replace(/\\D/g, '')", "write": "value"}}},
   {"source": "<invoicing source id>", "table": "invoice_customers",
    "match": {"column": "business_name", "normalize": ["trim", "lower", "collapse_spaces"]},
    "fields": {"email": "email",
               "phone": {"column": "phone", "read": "String(value)", "write": "Number(value)"}}}],
 "conflict": {"policy": "priority", "order": ["<crm source id>", "<invoicing source id>"]},
 "capture": "auto", "reconcile": "apply"}`;
