/** The platform's eight variable types (spec/export-resource.md). */
export const VARIABLE_TYPES = ['integer', 'float', 'boolean', 'date', 'dateTime', 'time', 'string', 'geography'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface ValueLabel {
  /** Always a string, even for numeric variables (the platform's convention). */
  value: string;
  label: string;
}

export interface Variable {
  name: string;
  type: VariableType;
  label?: string;
  description?: string;
  valueLabels?: ValueLabel[];
}

/** What a two-pass format needs to know before its first byte; all optional. */
export interface VariableStatistics {
  /** Largest UTF-8 byte length of a string value in the column. */
  maxByteLength?: number;
  /** Integer range (nulls excluded). */
  min?: bigint;
  max?: bigint;
  nullCount?: number;
}

/** The base representation of a table as the Export resource embeds it (`table` field). */
export interface TableBase {
  kind: 'table';
  name: string;
  [field: string]: unknown;
}

export interface Table {
  name: string;
  variables: Variable[];
  description?: string;
  numRows?: number;
  /** Keyed by variable name. */
  statistics?: Record<string, VariableStatistics>;
  /** The platform's base representation; a minimal one is derived when absent. */
  base?: TableBase;
}

export function tableBase(table: Table): TableBase {
  if (table.base) return table.base;
  return {
    kind: 'table',
    name: table.name,
    numRows: table.numRows ?? null,
    variableCount: table.variables.length,
    ...(table.description ? { description: table.description } : {}),
  };
}
