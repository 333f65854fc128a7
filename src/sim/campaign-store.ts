/**
 * The Campaign simulator's in-memory database: just enough of
 * `xtk:queryDef#ExecuteQuery` and `xtk:persist#Write` for integrations to
 * read back what they wrote, and for `audit-rights` to read operators,
 * groups and folder permissions (docs/simulators.md#folder-permissions-and-named-rights).
 *
 * Supported queryDef subset: operations `select`, `get`, `getIfExists`,
 * `count`; `<select><node expr="..."/>` (all attributes when absent) with
 * `@attr`, `[link/@attr]` (a declared link, answered as a child element
 * `<link attr="..."/>`) or an element name the schema declares
 * (`rights` of `xtk:operator`); `<where><condition expr="... = 'value'"/>`
 * on `@attr` or `[link/@attr]` (several conditions are ANDed; `=` and `!=`,
 * quoted strings with `\'` and `\\` escapes as Campaign's `escapeXtk`
 * writes them, or numbers); `lineCount`.
 *
 * The store is bounded (`maxRows`, `maxBytes`): `simulate` is reachable
 * from the network, and a full store refuses writes instead of growing.
 */
import { escapeXml, xmlAttributes } from '../soap/xml.js'
import { childNamed, type XmlElement } from '../soap/xml-tree.js'

export type Row = Record<string, string>

export class QueryError extends Error {
  override name = 'QueryError'
}

export interface CampaignStoreOptions {
  /**
   * Links per schema: link name → the schema it points to. A row holds the
   * linked row's `@id` in `<link>-id`, as Campaign's XML names a link's key.
   */
  readonly links?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Element nodes per schema (`<node expr="rights"/>`): the XML of that element for a row. */
  readonly elements?: Readonly<Record<string, Readonly<Record<string, (row: Row) => string>>>>
  /** At most this many rows in all tables together. */
  readonly maxRows?: number
  /** At most this many characters of names and values in all tables together. */
  readonly maxBytes?: number
}

export const STORE_LIMITS = { maxRows: 50_000, maxBytes: 32 * 1024 * 1024 } as const

const NAME = '[A-Za-z_][\\w-]*'
const FIELD = new RegExp(`^\\s*(?:@(${NAME})|\\[(${NAME})/@(${NAME})\\]|(${NAME}))\\s*$`)
const CONDITION = new RegExp(`^\\s*(@${NAME}|\\[${NAME}/@${NAME}\\])\\s*(!=|=)\\s*(?:'((?:[^'\\\\]|\\\\[\\s\\S])*)'|(-?\\d+(?:\\.\\d+)?))\\s*$`)

type Field =
  | { readonly kind: 'attribute', readonly attribute: string }
  | { readonly kind: 'link', readonly link: string, readonly attribute: string }
  | { readonly kind: 'element', readonly render: (row: Row) => string }

function rowSize (row: Row): number {
  let size = 0
  for (const [name, value] of Object.entries(row)) size += name.length + value.length
  return size
}

export class CampaignStore {
  readonly #tables = new Map<string, Row[]>()
  readonly #links: NonNullable<CampaignStoreOptions['links']>
  readonly #elements: NonNullable<CampaignStoreOptions['elements']>
  readonly #maxRows: number
  readonly #maxBytes: number
  #rowCount = 0
  #bytes = 0
  #nextId = 10_000

  constructor (seed: Readonly<Record<string, readonly Row[]>> = {}, options: CampaignStoreOptions = {}) {
    this.#links = options.links ?? {}
    this.#elements = options.elements ?? {}
    this.#maxRows = options.maxRows ?? STORE_LIMITS.maxRows
    this.#maxBytes = options.maxBytes ?? STORE_LIMITS.maxBytes
    for (const [schema, rows] of Object.entries(seed)) for (const row of rows) this.insert(schema, row)
  }

  rows (schema: string): readonly Row[] {
    return this.#tables.get(schema) ?? []
  }

  /** Adds a row (an `@id` is generated when it has none); refused with a QueryError when the store is full. */
  insert (schema: string, row: Row): Row {
    const stored = { ...row }
    stored.id ??= String(this.#nextId++)
    this.#reserve(1, rowSize(stored))
    let table = this.#tables.get(schema)
    if (table === undefined) {
      table = []
      this.#tables.set(schema, table)
    }
    table.push(stored)
    return stored
  }

  /** Updates the row whose attributes match `key`, else inserts `key` and `values` as a new row. */
  upsert (schema: string, key: Row, values: Row): Row {
    const keys = Object.keys(key)
    const existing = this.rows(schema).find(row => keys.every(k => row[k] === key[k]))
    if (existing === undefined) return this.insert(schema, { ...key, ...values })
    this.#update(existing, values)
    return existing
  }

  #update (row: Row, values: Row): void {
    const merged = { ...row, ...values }
    this.#reserve(0, rowSize(merged) - rowSize(row))
    Object.assign(row, values)
  }

  #reserve (rows: number, bytes: number): void {
    if (this.#rowCount + rows > this.#maxRows || this.#bytes + bytes > this.#maxBytes) {
      throw new QueryError(`the simulator's store is full (at most ${this.#maxRows} rows and ${this.#maxBytes} characters): restart the simulator`)
    }
    this.#rowCount += rows
    this.#bytes += bytes
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
    // Only an insert creates a table: updates and deletes of unknown schemas leave nothing behind.
    const table = this.#tables.get(schema) ?? []
    const index = table.findIndex(row => keys.every(k => data[k] !== undefined && row[k] === data[k]))
    switch (operation) {
      case 'insert':
        this.insert(schema, data)
        return
      case 'update':
        if (index === -1) throw new QueryError(`no ${schema} record matches ${keys.map(k => `@${k}`).join(',')} for update`)
        this.#update(table[index] as Row, data)
        return
      case 'insertOrUpdate':
        if (index === -1) this.insert(schema, data)
        else this.#update(table[index] as Row, data)
        return
      case 'delete':
        if (index !== -1) {
          const [removed] = table.splice(index, 1)
          this.#rowCount -= 1
          this.#bytes -= rowSize(removed as Row)
        }
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
      .map(c => this.#condition(schema, c.attrs.expr ?? ''))
    let rows = this.rows(schema).filter(row => conditions.every(test => test(row)))
    const lineCount = queryDef.attrs.lineCount === undefined ? undefined : Number(queryDef.attrs.lineCount)
    if (lineCount !== undefined) rows = rows.slice(0, lineCount)
    const fields = (childNamed(queryDef, 'select')?.children ?? []).filter(c => c.local === 'node').map(c => this.#field(schema, c.attrs.expr ?? ''))
    const project = (row: Row): string => fields.length === 0 ? `<${entity}${xmlAttributes(row)}/>` : this.#project(schema, entity, row, fields)
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

  /** A row as Campaign answers it: attributes, then one child element per link, then element nodes. */
  #project (schema: string, entity: string, row: Row, fields: readonly Field[]): string {
    const attributes: Row = {}
    const links = new Map<string, Row>()
    const elements: string[] = []
    for (const field of fields) {
      if (field.kind === 'element') {
        elements.push(field.render(row))
        continue
      }
      const value = this.#value(schema, row, field)
      if (value === undefined) continue
      if (field.kind === 'attribute') {
        attributes[field.attribute] = value
      } else {
        const linked = links.get(field.link) ?? {}
        linked[field.attribute] = value
        links.set(field.link, linked)
      }
    }
    const children = [...links].map(([link, attrs]) => `<${link}${xmlAttributes(attrs)}/>`).join('') + elements.join('')
    return children === '' ? `<${entity}${xmlAttributes(attributes)}/>` : `<${entity}${xmlAttributes(attributes)}>${children}</${entity}>`
  }

  #value (schema: string, row: Row, field: Exclude<Field, { kind: 'element' }>): string | undefined {
    if (field.kind === 'attribute') return row[field.attribute]
    const target = this.#links[schema]?.[field.link] as string
    const id = row[`${field.link}-id`]
    return this.rows(target).find(r => r.id === id)?.[field.attribute]
  }

  #field (schema: string, expr: string): Field {
    const match = FIELD.exec(expr)
    const unsupported = (): QueryError => new QueryError(`unsupported select expression '${expr}' (the simulator supports @attribute, [link/@attribute] and the element nodes of a schema)`)
    if (match === null) throw unsupported()
    const [, attribute, link, linkAttribute, element] = match as unknown as [string, string | undefined, string | undefined, string | undefined, string | undefined]
    if (attribute !== undefined) return { kind: 'attribute', attribute }
    if (link !== undefined) {
      if (this.#links[schema]?.[link] === undefined) throw new QueryError(`${schema} has no link '${link}' in the simulator`)
      return { kind: 'link', link, attribute: linkAttribute as string }
    }
    const render = this.#elements[schema]?.[element as string]
    if (render === undefined) throw unsupported()
    return { kind: 'element', render }
  }

  #condition (schema: string, expr: string): (row: Row) => boolean {
    const match = CONDITION.exec(expr)
    if (match === null) throw new QueryError(`unsupported condition '${expr}' (the simulator supports @attribute or [link/@attribute] = 'value')`)
    const [, left, op, quoted, numeric] = match as unknown as [string, string, string, string | undefined, string | undefined]
    const field = this.#field(schema, left) as Exclude<Field, { kind: 'element' }>
    const expected = quoted === undefined ? numeric : quoted.replace(/\\([\s\S])/g, '$1')
    return op === '=' ? (row) => this.#value(schema, row, field) === expected : (row) => this.#value(schema, row, field) !== expected
  }
}
