// The Grafana dashboard queries only metrics the proxy exports.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { send } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

t.test('every metric the dashboard queries exists in /metrics', async t => {
  const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/campaign-ims-proxy.json', import.meta.url), 'utf8')) as { panels: Array<{ title: string, targets: Array<{ expr: string }> }> }
  const s = await startProxyStack(t, { integrations: '  - { name: website, networks: [127.0.0.1/32], technicalAccount: marketing }' })
  await send(`${s.server.proxyUrl}/r/test`)
  const exported = new Set((await send(`${s.server.adminUrl}/metrics`)).text.split('\n').filter(l => l.startsWith('# TYPE ')).flatMap(l => {
    const [, , name, type] = l.split(' ')
    return type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name as string]
  }))
  const queried = new Set(dashboard.panels.flatMap(p => p.targets.flatMap(target => target.expr.match(/campaign_ims_proxy_[a-z0-9_]+/g) ?? [])))
  t.ok(queried.size >= 12, `the dashboard queries ${queried.size} metrics`)
  for (const name of queried) t.ok(exported.has(name), `${name} is exported`)
})
