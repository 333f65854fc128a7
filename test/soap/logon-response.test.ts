import t from 'tap'
import { logoffResponse, logonResponse, sessionInfoFromCampaign, syntheticSessionInfo } from '../../src/soap/logon-response.js'

const NOW = Date.parse('2026-11-23T09:00:00Z')

t.test('synthetic session info is marked', async t => {
  t.same(syntheticSessionInfo({ login: 'etl', instanceName: 'acme', sessionTimeoutSeconds: 600, now: NOW }), {
    serverInfoXml: '<serverInfo buildNumber="0" instanceName="acme" majNumber="8" minNumber="0" servicePack="0" sessionTimeOut="600" securityTimeOut="600" serverDate="2026-11-23 09:00:00.000Z" proxySynthetic="true"/>',
    userInfoXml: '<userInfo login="etl" loginId="0" loginCS="etl" timezone="UTC" instanceLocale="en" locale="en"/>',
  }, 'exact elements')
})

t.test('session info from Campaign answers', async t => {
  const info = sessionInfoFromCampaign("<redir status='OK' build='9372' instance='acme_prod'/>",
    "<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><GetUserInfoResponse xmlns='urn:xtk:session'><pUserInfo><userInfo login='t@techacct.adobe.com' loginId='1061'><login-right right='admin'/></userInfo></pUserInfo></GetUserInfoResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>", 60, NOW)
  t.equal(info.serverInfoXml, '<serverInfo buildNumber="9372" instanceName="acme_prod" majNumber="8" minNumber="0" servicePack="0" sessionTimeOut="60" securityTimeOut="60" serverDate="2026-11-23 09:00:00.000Z"/>', 'serverInfo from /r/test')
  t.equal(info.userInfoXml, '<userInfo login="t@techacct.adobe.com" loginId="1061"><login-right right="admin"/></userInfo>', 'userInfo as Campaign gave it')
  t.throws(() => sessionInfoFromCampaign("<redir status='OK'/>", '<x/>', 60), /did not answer a <redir/, 'a /r/test answer without build')
  t.throws(() => sessionInfoFromCampaign("<notredir build='1' instance='x'/>", '<x/>', 60), /did not answer a <redir/, 'not a redir')
  t.throws(() => sessionInfoFromCampaign("<redir build='1' instance='x'/>", '<x><y/></x>', 60), /did not answer a <userInfo>/, 'no userInfo')
  t.match(sessionInfoFromCampaign("<redir build='1' instance='x'/>", '<userInfo login="a"/>', 60).serverInfoXml, /serverDate="\d{4}-/, 'the clock defaults to now')
})

t.test('Logon and Logoff responses', async t => {
  const body = logonResponse('urn:xtk:session', '___s', '@k', { serverInfoXml: '<serverInfo/>', userInfoXml: '<userInfo/>' })
  t.match(body, "<LogonResponse xmlns='urn:xtk:session' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'>\n<pstrSessionToken xsi:type='xsd:string'>___s</pstrSessionToken>\n<pSessionInfo xsi:type='ns:Element' SOAP-ENV:encodingStyle='http://xml.apache.org/xml-soap/literalxml'><sessionInfo><serverInfo/><userInfo/></sessionInfo></pSessionInfo>\n<pstrSecurityToken xsi:type='xsd:string'>@k</pstrSecurityToken>\n</LogonResponse>", 'the outputs in order')
  t.match(logoffResponse('urn:xtk:session'), "<LogoffResponse xmlns='urn:xtk:session' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'>\n</LogoffResponse>", 'an empty LogoffResponse')
})
