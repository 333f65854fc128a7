// Every key of the configuration schema is documented in
// docs/configuration.md, written as its path in backticks: `campaign.url`,
// `technicalAccounts.<name>.clientId`, `integrations[].networks`.
import { readFileSync } from 'node:fs'
import t from 'tap'
import type { SchemaObject } from 'ajv'
import { CONFIG_SCHEMA } from '../../src/config/schema.js'

/** The documented paths of every leaf key of a schema. */
export function keyPaths (schema: SchemaObject, prefix = ''): string[] {
  const join = (key: string): string => prefix === '' ? key : `${prefix}.${key}`
  const paths: string[] = []
  const properties = schema.properties as Record<string, SchemaObject> | undefined
  // A union with a string (secrets: a value or { file }) is documented as one key.
  if (properties !== undefined && schema.type === 'object') {
    for (const [key, child] of Object.entries(properties)) {
      const path = join(key)
      const nested = keyPaths(child, path)
      paths.push(...(nested.length === 0 ? [path] : nested))
    }
  } else if (typeof schema.additionalProperties === 'object') {
    paths.push(...keyPaths(schema.additionalProperties as SchemaObject, `${prefix}.<name>`))
  } else if (schema.type === 'array' && (schema.items as SchemaObject | undefined)?.type === 'object') {
    paths.push(...keyPaths(schema.items as SchemaObject, `${prefix}[]`))
  }
  return paths
}

t.test('every configuration key appears in docs/configuration.md', async t => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  const paths = keyPaths(CONFIG_SCHEMA)
  t.ok(paths.length > 40, `${paths.length} keys`)
  t.ok(paths.includes('technicalAccounts.<name>.clientId') && paths.includes('integrations[].clientCertificates[].sha256') && paths.includes('listen.tls.certFile'), 'maps, lists and nested keys are walked')
  const missing = paths.filter(path => !doc.includes(`\`${path}\``))
  t.same(missing, [], 'no key is missing from the reference')
})

t.test('the walk would notice a missing key', async t => {
  const schema = { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, c: { type: 'string' } } }
  t.same(keyPaths(schema), ['a.b', 'c'], 'leaf paths')
  const doc = '| `a.b` | ... |'
  t.same(keyPaths(schema).filter(path => !doc.includes(`\`${path}\``)), ['c'], 'an undocumented key is reported')
})
