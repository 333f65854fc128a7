/**
 * Loading the configuration file (docs/configuration.md): YAML, then `${ENV}`
 * interpolation, then the schema, then the rules between values. Every
 * problem is collected and reported in one ConfigError, in document order.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument, type Document, type YAMLError } from 'yaml'
import { buildConfig } from './build.js'
import { FrozenMap, deepFreeze } from './freeze.js'
import { interpolate, type Environment } from './interpolate.js'
import { formatPath, isAtOrBelow, type Problem } from './problems.js'
import { checkSchema } from './schema.js'
import type { Config } from './types.js'

/** The configuration is unusable; `problems` lists every reason as `path: problem`. */
export class ConfigError extends Error {
  /** Each problem as `<path>: <problem>`, e.g. `integrations[2].networks[0]: is not an IP address or CIDR block (...)`. */
  readonly problems: readonly string[]
  /** The file (or label) the configuration came from. */
  readonly source: string

  constructor (source: string, problems: readonly string[]) {
    super(`invalid configuration (${source}):\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.source = source
    this.problems = Object.freeze([...problems])
  }
}

export interface ParseOptions {
  /** Names the configuration in the error message (usually its file path). */
  readonly source: string
  /** Variables for `${NAME}` references. */
  readonly env: Environment
  /** Directory relative `file:` and `caFile` paths are resolved against; the working directory by default. */
  readonly baseDir?: string
}

/**
 * The deep-frozen configuration `yamlText` describes.
 *
 * @throws ConfigError listing every problem found.
 */
export function parseConfig (yamlText: string, options: ParseOptions): Config {
  const lineCounter = new LineCounter()
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) throw new ConfigError(options.source, syntaxProblems(yamlText, doc, lineCounter))
  const parsed: unknown = doc.toJS() ?? {}
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(options.source, [`${formatPath([])}: must be a mapping of configuration keys`])
  }

  const found: Problem[] = []
  const data = interpolate(parsed, options.env, [], found) as Record<string, unknown>
  // A value that failed an earlier stage is not reported again by a later one.
  const reported = (): Set<string> => new Set(found.map(problem => formatPath(problem.path)))
  const keepNew = (problems: readonly Problem[], seen: Set<string>): Problem[] =>
    problems.filter(problem => ![...seen].some(path => isAtOrBelow(formatPath(problem.path), path)))

  found.push(...keepNew(checkSchema(data), reported()))
  const semantic: Problem[] = []
  const config = buildConfig(data, options.baseDir ?? process.cwd(), semantic)
  found.push(...keepNew(semantic, reported()))

  if (found.length > 0) {
    const ordered = found
      .map(problem => ({ problem, at: positionOf(doc, problem) }))
      // Document order; at one place, a problem about a node before those about its missing keys.
      .sort((a, b) => a.at - b.at || a.problem.path.length - b.problem.path.length)
    throw new ConfigError(options.source, ordered.map(({ problem }) => `${formatPath(problem.path)}: ${problem.message}`))
  }
  return deepFreeze({
    ...config,
    technicalAccounts: new FrozenMap([...config.technicalAccounts].map(([name, account]) => [name, deepFreeze(account)] as const)),
    campaigns: new FrozenMap([...config.campaigns].map(([name, instance]) => [name, deepFreeze(instance)] as const)),
  })
}

/**
 * Reads and parses the configuration file at `path`; relative file paths
 * inside it are resolved against its directory.
 *
 * @throws ConfigError when the file cannot be read or is invalid.
 */
export async function loadConfig (path: string, env: Environment): Promise<Config> {
  let yamlText: string
  try {
    yamlText = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(path, [`(file): cannot read ${resolve(path)} (${String((err as NodeJS.ErrnoException).code)})`])
  }
  return parseConfig(yamlText, { source: path, env, baseDir: dirname(resolve(path)) })
}

const FLOW_REFERENCE = /[[{][^\]}]*\$\{/
// eslint-disable-next-line no-template-curly-in-string -- the configuration's ${NAME} syntax, not a template
const FLOW_HINT = ' (a ${...} reference inside { } or [ ] must be quoted: "${NAME}")'

/**
 * The structure of a document with syntax errors cannot be trusted, so
 * they are reported alone. After the first error the parser mostly reports
 * its consequences: only duplicate keys, which are independent, are listed
 * beyond it.
 */
function syntaxProblems (yamlText: string, doc: Document, lineCounter: LineCounter): string[] {
  const lines = yamlText.split('\n')
  const first = doc.errors.find(error => error.code !== 'DUPLICATE_KEY')
  const shown = doc.errors.filter(error => error === first || error.code === 'DUPLICATE_KEY')
  const problems = shown.map(error => {
    const { line, col } = lineCounter.linePos(error.pos[0])
    const hint = FLOW_REFERENCE.test(String(lines[line - 1])) ? FLOW_HINT : ''
    return `line ${line}, column ${col}: ${error.message}${hint}`
  })
  const hidden = doc.errors.length - shown.length
  if (hidden > 0) problems.push(`(${hidden} further syntax errors after line ${lineCounter.linePos((first as YAMLError).pos[0]).line}, probably caused by it, not listed)`)
  return problems
}

/** Where a problem's path starts in the document (its nearest existing ancestor for a missing key). */
function positionOf (doc: Document, problem: Problem): number {
  for (let depth = problem.path.length; depth >= 0; depth--) {
    const node = doc.getIn(problem.path.slice(0, depth), true) as { range?: [number, number, number] } | undefined
    if (node?.range !== undefined) return node.range[0]
  }
  return 0
}
