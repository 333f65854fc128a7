/**
 * The Campaign simulator's in-memory database: just enough of
 * `xtk:queryDef#ExecuteQuery` and `xtk:persist#Write` for integrations to
 * read back what they wrote.
 *
 * Supported queryDef subset: operations `select`, `get`, `getIfExists`,
 * `count`; `<select><node expr="@attr"/>` (all attributes when absent);
 * `<where><condition expr="@attr = 'value'"/>` (several conditions are ANDed;
 * `=` and `!=`, quoted strings or numbers); `lineCount`.
 */
import { escapeXml, xmlAttributes } from '../soap/xml.js'
import { childNamed, type XmlElement } from '../soap/xml-tree.js'

export type Row = Record<string, string>

export class QueryError extends Error {
  override name = 'QueryError'
}

const CONDITION = /^\s*@([A-Za-z_][\w-]*)\s*(!=|=)\s*(?:'([^']*)'|(-?\d+(?:\.\d+)?))\s*$/

export class CampaignStore {
  readonly #tables = new Map<string, Row[]>()
  #nextId = 10_000

  constructor (seed: Readonly<Record<string, readonly Row[]>> = {}) {
    for (const [schema, rows] of Object.entries(seed)) this.#tables.set(schema, rows.map(r => ({ ...r })))
  }

  rows (schema: string): readonly Row[] {
    return this.#tables.get(schema) ?? []
  }

  insert (schema: string, row: Row): Row {
    const stored = { ...row }
    stored.id ??= String(this.#nextId++)
    this.#table(schema).push(stored)
    return stored
  }

  #table (schema: string): Row[] {
    let table = this.#tables.get(schema)
    if (table === undefined) {
      table = []
      this.#tables.set(schema, table)
    }
    return table
  }

  /** Applies a `Write` document: the element's `xtkschema` names the table, `_operation` the action, `_key` the match. */
  write (doc: XmlElement): void {
    const schema = doc.attrs.xtkschema
    if (schema === undefined) throw new QueryError(`element <${doc.local}> has no xtkschema attribute`)
    const operation = doc.attrs._operation ?? 'insertOrUpdate'
    const data: Row = {}
    for (const [name, value] of Object.entries(doc.attrs)) {
      if (!name.startsWith('_') && name !== 'xtkschema' && !name.startsWith('xmlns')) data[name] = value
    }
    const keys = (doc.attrs._key ?? '@id').split(',').map(k => k.trim().replace(/^@/, ''))
    const table = this.#table(schema)
    const index = table.findIndex(row => keys.every(k => data[k] !== undefined && row[k] === data[k]))
    switch (operation) {
      case 'insert':
        this.insert(schema, data)
        return
      case 'update':
        if (index === -1) throw new QueryError(`no ${schema} record matches ${keys.map(k => `@${k}`).join(',')} for update`)
        Object.assign(table[index] as Row, data)
        return
      case 'insertOrUpdate':
        if (index === -1) this.insert(schema, data)
        else Object.assign(table[index] as Row, data)
        return
      case 'delete':
        if (index !== -1) table.splice(index, 1)
        return
      default:
        throw new QueryError(`unsupported _operation '${operation}'`)
    }
  }

  /** Runs a `<queryDef>` and returns the output document as XML. */
  query (queryDef: XmlElement): string {
    const schema = queryDef.attrs.schema
    if (schema === undefined) throw new QueryError('queryDef has no schema attribute')
    const operation = queryDef.attrs.operation ?? 'select'
    const entity = schema.slice(schema.indexOf(':') + 1)
    const conditions = (childNamed(queryDef, 'where')?.children ?? [])
      .filter(c => c.local === 'condition')
      .map(c => parseCondition(c.attrs.expr ?? ''))
    let rows = this.rows(schema).filter(row => conditions.every(test => test(row)))
    const lineCount = queryDef.attrs.lineCount === undefined ? undefined : Number(queryDef.attrs.lineCount)
    if (lineCount !== undefined) rows = rows.slice(0, lineCount)
    const fields = (childNamed(queryDef, 'select')?.children ?? []).filter(c => c.local === 'node').map(c => parseField(c.attrs.expr ?? ''))
    const project = (row: Row): string => {
      const selected: Row = {}
      for (const field of fields.length === 0 ? Object.keys(row) : fields) {
        if (row[field] !== undefined) selected[field] = row[field]
      }
      return `<${entity}${xmlAttributes(selected)}/>`
    }
    switch (operation) {
      case 'select':
        return `<${entity}-collection>${rows.map(project).join('')}</${entity}-collection>`
      case 'count':
        return `<${entity} count="${rows.length}"/>`
      case 'get':
        if (rows.length === 0) throw new QueryError(`no ${escapeXml(schema)} record matches the query`)
        return project(rows[0] as Row)
      case 'getIfExists':
        return rows.length === 0 ? `<${entity}/>` : project(rows[0] as Row)
      default:
        throw new QueryError(`unsupported queryDef operation '${operation}'`)
    }
  }
}

function parseField (expr: string): string {
  const match = /^\s*@([A-Za-z_][\w-]*)\s*$/.exec(expr)
  if (match === null) throw new QueryError(`unsupported select expression '${expr}' (the simulator supports @attribute)`)
  return match[1] as string
}

function parseCondition (expr: string): (row: Row) => boolean {
  const match = CONDITION.exec(expr)
  if (match === null) throw new QueryError(`unsupported condition '${expr}' (the simulator supports @attribute = 'value')`)
  const [, attr, op, quoted, numeric] = match as unknown as [string, string, string, string | undefined, string | undefined]
  const expected = quoted ?? numeric
  return op === '=' ? (row) => row[attr] === expected : (row) => row[attr] !== expected
}
