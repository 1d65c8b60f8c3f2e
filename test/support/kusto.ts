// The Kusto language service (@kusto/language-service-next), loaded once, checking queries against the custom
// table's schema as infra/azure/azuredeploy.json declares it (read from the template, not copied).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Diagnostic {
  Severity: string;
  Message: string;
}
interface KustoLanguage {
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string | null) => unknown };
    DatabaseSymbol: { $ctor2: new (name: string, alternateName: string | null, members: unknown[]) => unknown };
  };
  GlobalState: { Default: { WithDatabase(database: unknown): unknown } };
  KustoCode: { ParseAndAnalyze(text: string, globals: unknown): { GetDiagnostics(): { Count: number; getItem(index: number): Diagnostic } } };
}

let language: KustoLanguage | undefined;
function kusto(): KustoLanguage {
  if (!language) {
    // A Bridge.NET build: its two scripts define the global `Kusto` when run in order.
    const require = createRequire(import.meta.url);
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    language = (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
  }
  return language;
}

/** The relay's table name and columns, from the ARM template's variables. */
export function templateTable(): { name: string; columns: { name: string; type: string }[] } {
  const template = JSON.parse(readFileSync(new URL('../../infra/azure/azuredeploy.json', import.meta.url), 'utf8')) as { variables: { tableName: string; columns: { name: string; type: string }[] } };
  return { name: template.variables.tableName, columns: template.variables.columns };
}

/** A checker for queries over one table: returns the errors and warnings the language service reports. */
export function kqlChecker(table: { name: string; columns: readonly { name: string; type: string }[] }): (query: string) => string[] {
  const k = kusto();
  const schema = `(${table.columns.map((column) => `${column.name}:${column.type}`).join(', ')})`;
  const database = new k.Symbols.DatabaseSymbol.$ctor2('workspace', null, [new k.Symbols.TableSymbol.$ctor7(table.name, schema, null)]);
  const globals = k.GlobalState.Default.WithDatabase(database);
  return (query) => {
    const diagnostics = k.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
    const problems: string[] = [];
    for (let index = 0; index < diagnostics.Count; index++) {
      const diagnostic = diagnostics.getItem(index);
      if (diagnostic.Severity === 'Error' || diagnostic.Severity === 'Warning') problems.push(`${diagnostic.Severity}: ${diagnostic.Message}`);
    }
    return problems;
  };
}
