// logons_total counts lockouts: Campaign's rule, 3 failures per login and
// address, then the login is locked there even for the right password.
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { send, soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'
import { soapEnvelope } from '../fixtures/soap.js'

t.test('failures, then a lockout, counted per integration', async t => {
  const hash = await hashPassword('right-one', { N: 1024 })
  const s = await startProxyStack(t, { integrations: `  - { name: nightly-etl, login: etl_operator, passwordHash: '${hash}', technicalAccount: marketing }` })
  const logon = (password: string): Promise<number> => soapPost(s.soapRouter, soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', 'etl_operator'], ['password', password], ['parameters', { xml: '' }]] }), {}, 'xtk:session#Logon').then(r => r.status)
  for (let i = 0; i < 3; i++) t.equal(await logon('wrong'), 500, `wrong password ${i + 1}`)
  t.equal(await logon('right-one'), 500, 'then even the right password is refused: locked')
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.match(metrics, 'campaign_ims_proxy_logons_total{integration="nightly-etl",result="failure"} 3', 'three failures')
  t.match(metrics, 'campaign_ims_proxy_logons_total{integration="nightly-etl",result="locked"} 1', 'one locked attempt')
  t.notMatch(metrics, /logons_total\{integration="nightly-etl",result="success"\}/, 'no success')
})
