/**
 * `campaign-ims-proxy suggest-allowlist --from URL-or-FILE`: reads a
 * migration inventory (`/integrations` of the admin listener, or a saved
 * copy) and prints, per integration, the `allowedMethods` of the SOAP
 * methods it called, as YAML ready to paste into its configuration entry
 * (docs/operations.md#least-privilege-from-the-inventory).
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { allowedMethodProblem } from './config/allow-list.js'
import { UsageError } from './usage-error.js'

export const SUGGEST_ALLOWLIST_USAGE = `Usage: campaign-ims-proxy suggest-allowlist --from URL-or-FILE [--from URL-or-FILE ...]

Prints, for each integration of a migration inventory, the allowedMethods
of the SOAP methods it called, as YAML to paste into its entry.
  campaign-ims-proxy suggest-allowlist --from http://127.0.0.1:9090/integrations
  campaign-ims-proxy suggest-allowlist --from inventory.json
Several --from (one per replica without a shared store): the methods of
every document, added up.
Methods the proxy refused (not in an existing allowedMethods) are listed as
comments, never suggested. See docs/operations.md.
`

/** Largest inventory document read (the inventory itself is bounded far below). */
export const MAX_INVENTORY_BYTES = 16 * 1024 * 1024
const FETCH_TIMEOUT_MS = 10_000

/** The part of an `/integrations` document this command reads. */
interface InventoryIntegration {
  readonly name: string
  readonly mode: string | undefined
  readonly calls: number
  readonly methods: Readonly<Record<string, number>>
  readonly refused: Readonly<Record<string, number>>
  readonly allowedMethods: readonly string[] | null
}

export class InventoryDocumentError extends Error {
  override name = 'InventoryDocumentError'
}

export async function suggestAllowlistCommand (args: readonly string[], stdout: NodeJS.WritableStream): Promise<number> {
  let sources: string[] | undefined
  try {
    sources = parseArgs({ args: [...args], options: { from: { type: 'string', multiple: true } } }).values.from
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (sources === undefined || sources.some(from => from === '')) throw new UsageError('--from URL-or-FILE is required (the admin listener\'s /integrations, or a saved copy)')
  const documents = []
  for (const from of sources) documents.push(parseInventory(await readInventory(from), from))
  stdout.write(suggestAllowlist(merged(documents), sources.join(', ')))
  return 0
}

type ParsedInventory = ReturnType<typeof parseInventory>

/** Several replicas' documents as one: an integration's counts added up by name, in the order first seen; the latest generation time. */
function merged (documents: readonly ParsedInventory[]): ParsedInventory {
  if (documents.length === 1) return documents[0] as ParsedInventory
  const byName = new Map<string, { name: string, mode: string | undefined, calls: number, methods: Record<string, number>, refused: Record<string, number>, allowedMethods: readonly string[] | null }>()
  const add = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
    for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n
  }
  for (const document of documents) {
    for (const integration of document.integrations) {
      let entry = byName.get(integration.name)
      if (entry === undefined) {
        entry = { ...integration, methods: {}, refused: {}, calls: 0 }
        byName.set(integration.name, entry)
      }
      entry.calls += integration.calls
      add(entry.methods, integration.methods)
      add(entry.refused, integration.refused)
    }
  }
  const times = documents.flatMap(d => d.generatedAt === undefined ? [] : [d.generatedAt]).sort()
  return { generatedAt: times.at(-1), integrations: [...byName.values()], unknownCallers: documents.reduce((n, d) => n + d.unknownCallers, 0) }
}

async function readInventory (from: string): Promise<string> {
  if (/^https?:\/\//i.test(from)) {
    let response
    try {
      response = await request(from, { headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS, headers: { accept: 'application/json' } })
    } catch (err) {
      throw new InventoryDocumentError(`could not read ${from}: ${(err as Error).message}`)
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_INVENTORY_BYTES) {
        response.body.destroy()
        throw new InventoryDocumentError(`${from} is larger than ${MAX_INVENTORY_BYTES} bytes: not an inventory`)
      }
      chunks.push(chunk)
    }
    if (response.statusCode !== 200) throw new InventoryDocumentError(`${from} answered HTTP ${response.statusCode}, not an inventory`)
    return Buffer.concat(chunks).toString('utf8')
  }
  let bytes: Buffer
  try {
    bytes = await readFile(from)
  } catch (err) {
    throw new InventoryDocumentError(`could not read ${from}: ${String((err as NodeJS.ErrnoException).code)}`)
  }
  if (bytes.length > MAX_INVENTORY_BYTES) throw new InventoryDocumentError(`${from} is larger than ${MAX_INVENTORY_BYTES} bytes: not an inventory`)
  return bytes.toString('utf8')
}

function parseInventory (text: string, from: string): { generatedAt: string | undefined, integrations: InventoryIntegration[], unknownCallers: number } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new InventoryDocumentError(`${from} is not JSON: expected the admin listener's /integrations document`)
  }
  const document = data as { generatedAt?: unknown, integrations?: unknown, unknownCallers?: unknown }
  if (typeof data !== 'object' || data === null || !Array.isArray(document.integrations)) {
    throw new InventoryDocumentError(`${from} has no integrations list: expected the admin listener's /integrations document`)
  }
  const integrations = document.integrations.map((entry: unknown, i): InventoryIntegration => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>
    if (typeof e.name !== 'string') throw new InventoryDocumentError(`${from}: integrations[${i}] has no name`)
    return {
      name: e.name,
      mode: typeof e.mode === 'string' ? e.mode : undefined,
      calls: typeof e.calls === 'number' ? e.calls : 0,
      methods: counts(e.methods),
      refused: counts(e.refused),
      allowedMethods: Array.isArray(e.allowedMethods) ? e.allowedMethods.filter((m): m is string => typeof m === 'string') : null,
    }
  })
  return {
    generatedAt: typeof document.generatedAt === 'string' ? document.generatedAt : undefined,
    integrations,
    unknownCallers: Array.isArray(document.unknownCallers) ? document.unknownCallers.length : 0,
  }
}

function counts (value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null) return {}
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'))
}

/** A name as a YAML scalar: plain when it is safe, JSON-quoted otherwise (a JSON string is a YAML string). */
function scalar (value: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.:#/-]*$/.test(value) ? value : JSON.stringify(value)
}

/** A text for a YAML comment: one line, printable. */
function commentText (value: string): string {
  return JSON.stringify(value).slice(1, -1)
}

/** The YAML to print: an `integrations:` list with each integration's name and allowedMethods, explained by comments. */
export function suggestAllowlist (inventory: { generatedAt: string | undefined, integrations: readonly InventoryIntegration[], unknownCallers: number }, from: string): string {
  const lines = [
    `# allowedMethods from the inventory at ${commentText(from)}${inventory.generatedAt === undefined ? '' : ` (generated ${commentText(inventory.generatedAt)})`}:`,
    '# the SOAP methods each integration called. Copy each allowedMethods into the',
    '# integration\'s entry; a method it calls later that is not listed gets HTTP 403.',
    'integrations:',
  ]
  for (const integration of inventory.integrations) {
    const used = Object.keys(integration.methods).filter(m => m !== 'other')
    const valid = used.filter(m => allowedMethodProblem(m) === undefined).sort()
    const invalid = used.filter(m => allowedMethodProblem(m) !== undefined)
    lines.push(`  - name: ${scalar(integration.name)}`)
    if (integration.mode === 'passthrough') lines.push('    # passthrough: the list applies to its calls too (it is still on legacy authentication)')
    if (valid.length === 0) {
      lines.push(`    # no SOAP method recorded (${integration.calls} calls): leave allowedMethods out until it has run, or every SOAP call would be refused`)
    } else {
      lines.push('    allowedMethods:')
      for (const method of valid) lines.push(`      - ${scalar(method)}   # ${integration.methods[method]} calls`)
    }
    if (integration.methods.other !== undefined) lines.push(`    # ${integration.methods.other} more calls to methods beyond the inventory's per-integration limit: check its logs before pasting`)
    for (const method of invalid) lines.push(`    # not a method name, left out: ${commentText(method)}`)
    for (const [method, n] of Object.entries(integration.refused)) lines.push(`    # refused by its current list, not suggested: ${commentText(method)} (${n} calls)`)
  }
  if (inventory.integrations.length === 0) lines.push('  []   # the inventory has no integration')
  if (inventory.unknownCallers > 0) lines.push(`# ${inventory.unknownCallers} unknown callers are not listed: configure them as integrations first.`)
  return `${lines.join('\n')}\n`
}
