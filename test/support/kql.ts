// Checks KQL the way the Log Analytics query editor does, offline: Microsoft's Kusto language service
// (@kusto/language-service-next, Kusto.Language compiled to JavaScript) parses and binds each query against the schemas
// of the tables it may read, so a syntax error, an unknown table or column, or a function called wrongly is an error.
import { createRequire } from 'node:module';
import { AKS_AUDIT_COLUMNS } from '../../src/sinks/aks-audit-row.ts';

/** A Log Analytics table: its name and its columns with their KQL types. */
export interface TableSchema {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: 'string' | 'dynamic' | 'datetime' | 'int' | 'long' | 'real' | 'bool' }[];
}

/** The relay's custom table, with exactly the columns the template declares and the sink writes. */
export const KUBE_AUDIT_TABLE: TableSchema = { name: 'KubeAudit_CL', columns: AKS_AUDIT_COLUMNS };

/**
 * FunctionAppLogs, which the function app's diagnostic setting fills: the columns of the Azure Monitor table reference
 * (learn.microsoft.com/azure/azure-monitor/reference/tables/functionapplogs), the standard ones included.
 */
export const FUNCTION_APP_LOGS_TABLE: TableSchema = {
  name: 'FunctionAppLogs',
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'ActivityId', type: 'string' },
    { name: 'AppName', type: 'string' },
    { name: 'Category', type: 'string' },
    { name: 'EventId', type: 'int' },
    { name: 'EventName', type: 'string' },
    { name: 'ExceptionDetails', type: 'string' },
    { name: 'ExceptionMessage', type: 'string' },
    { name: 'ExceptionType', type: 'string' },
    { name: 'FunctionInvocationId', type: 'string' },
    { name: 'FunctionName', type: 'string' },
    { name: 'HostInstanceId', type: 'string' },
    { name: 'HostVersion', type: 'string' },
    { name: 'Level', type: 'string' },
    { name: 'LevelId', type: 'int' },
    { name: 'Location', type: 'string' },
    { name: 'Message', type: 'string' },
    { name: 'ProcessId', type: 'int' },
    { name: 'RoleInstance', type: 'string' },
    { name: 'SourceSystem', type: 'string' },
    { name: 'TenantId', type: 'string' },
    { name: 'Type', type: 'string' },
    { name: '_ResourceId', type: 'string' },
    { name: '_SubscriptionId', type: 'string' },
    { name: '_BilledSize', type: 'real' },
    { name: '_IsBillable', type: 'string' },
  ],
};

// The package is a Bridge.NET build: bridge.js defines the runtime and Kusto.Language.Bridge.js the global `Kusto`.
const require = createRequire(import.meta.url);
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
// The package declares global namespaces for TypeScript; this file uses only a few members, untyped.
const Language = (globalThis as any).Kusto.Language;

const scalarType = (type: TableSchema['columns'][number]['type']) =>
  ({
    string: Language.Symbols.ScalarTypes.String,
    dynamic: Language.Symbols.ScalarTypes.Dynamic,
    datetime: Language.Symbols.ScalarTypes.DateTime,
    int: Language.Symbols.ScalarTypes.Int,
    long: Language.Symbols.ScalarTypes.Long,
    real: Language.Symbols.ScalarTypes.Real,
    bool: Language.Symbols.ScalarTypes.Bool,
  })[type];

/** The language service's state for a workspace that holds exactly these tables. */
function workspace(tables: readonly TableSchema[]): unknown {
  const symbols = tables.map(
    (table) => new Language.Symbols.TableSymbol.$ctor4(table.name, table.columns.map((column) => new Language.Symbols.ColumnSymbol(column.name, scalarType(column.type)))),
  );
  return Language.GlobalState.Default.WithDatabase(new Language.Symbols.DatabaseSymbol.ctor('workspace', symbols));
}

/** Every error the language service finds in the query, as `code message at offset`; empty when it is sound. */
export function kqlErrors(query: string, tables: readonly TableSchema[]): string[] {
  const diagnostics = Language.KustoCode.ParseAndAnalyze(query, workspace(tables)).GetDiagnostics();
  const errors: string[] = [];
  for (let index = 0; index < diagnostics.Count; index++) {
    const diagnostic = diagnostics.getItem(index);
    if (diagnostic.Severity === 'Error') errors.push(`${diagnostic.Code} ${diagnostic.Message} at ${diagnostic.Start}`);
  }
  return errors;
}

/** The columns of the query's result, as the language service infers them (what alert dimensions can split by). */
export function kqlResultColumns(query: string, tables: readonly TableSchema[]): string[] {
  return kqlResultSchema(query, tables).map((column) => column.name);
}

/** The columns of the query's result with their KQL types (`string`, `dynamic`, `datetime`...), as the language service infers them. */
export function kqlResultSchema(query: string, tables: readonly TableSchema[]): { name: string; type: string }[] {
  const columns = Language.KustoCode.ParseAndAnalyze(query, workspace(tables)).ResultType?.Columns;
  return Array.from({ length: columns?.Count ?? 0 }, (_, index) => {
    const column = columns.getItem(index);
    return { name: String(column.Name), type: String(column.Type.Name) };
  });
}
