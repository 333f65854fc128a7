/**
 * The Logon/Logoff answers the proxy gives for its own sessions
 * (docs/legacy-sessions.md), shaped like Campaign's so acc-js-sdk 1.2.0's strict parser
 * accepts them: `SOAP-ENV:` envelope, unprefixed `LogonResponse`,
 * `pstrSessionToken`, `pSessionInfo` (`<sessionInfo>` with `<serverInfo>`
 * and `<userInfo>`), `pstrSecurityToken`.
 */
import { parseXml, type XmlElement } from './xml-tree.js'
import { soapResponse } from './envelope.js'
import { campaignTimestamp, escapeXml, xmlAttributes } from './xml.js'

export interface SessionInfoParts {
  /** A `<serverInfo .../>` element. */
  readonly serverInfoXml: string
  /** A `<userInfo ...>...</userInfo>` element. */
  readonly userInfoXml: string
}

export function logonResponse (urn: string, sessionToken: string, securityToken: string, info: SessionInfoParts): string {
  return soapResponse(urn, 'Logon', [
    { name: 'pstrSessionToken', type: 'string', value: sessionToken },
    { name: 'pSessionInfo', type: 'element', xml: `<sessionInfo>${info.serverInfoXml}${info.userInfoXml}</sessionInfo>` },
    { name: 'pstrSecurityToken', type: 'string', value: securityToken },
  ])
}

export function logoffResponse (urn: string): string {
  return soapResponse(urn, 'Logoff', [])
}

/** Campaign v8 (what the proxy serves); /r/test gives only the build and the instance. */
const VERSION = { majNumber: 8, minNumber: 0, servicePack: 0 } as const

function serverInfoXml (build: string, instanceName: string, sessionTimeoutSeconds: number, now: number, isSynthetic: boolean): string {
  return `<serverInfo${xmlAttributes({
    buildNumber: build,
    instanceName,
    ...VERSION,
    sessionTimeOut: sessionTimeoutSeconds,
    securityTimeOut: sessionTimeoutSeconds,
    serverDate: campaignTimestamp(now),
    proxySynthetic: isSynthetic ? 'true' : undefined,
  })}/>`
}

/** The clearly marked fallback when Campaign cannot be asked. */
export function syntheticSessionInfo (options: { login: string, instanceName: string, sessionTimeoutSeconds: number, now: number }): SessionInfoParts {
  return {
    serverInfoXml: serverInfoXml('0', options.instanceName, options.sessionTimeoutSeconds, options.now, true),
    userInfoXml: `<userInfo${xmlAttributes({ login: options.login, loginId: 0, loginCS: options.login, timezone: 'UTC', instanceLocale: 'en', locale: 'en' })}/>`,
  }
}

function serialise (element: XmlElement): string {
  const attrs = Object.entries(element.attrs).filter(([name]) => !name.startsWith('xmlns')).map(([name, value]) => ` ${name}="${escapeXml(value)}"`).join('')
  const children = element.children.map(serialise).join('')
  return children === '' ? `<${element.qname}${attrs}/>` : `<${element.qname}${attrs}>${children}</${element.qname}>`
}

function find (element: XmlElement, local: string): XmlElement | undefined {
  if (element.local === local) return element
  for (const child of element.children) {
    const found = find(child, local)
    if (found !== undefined) return found
  }
  return undefined
}

/** serverInfo from Campaign's `GET /r/test`, userInfo from its `xtk:session#GetUserInfo` answer. */
export function sessionInfoFromCampaign (redirXml: string, getUserInfoResponseXml: string, sessionTimeoutSeconds: number, now = Date.now()): SessionInfoParts {
  const redir = parseXml(redirXml)
  if (redir.local !== 'redir' || redir.attrs.build === undefined || redir.attrs.instance === undefined) throw new Error('GET /r/test did not answer a <redir build instance> element')
  const userInfo = find(parseXml(getUserInfoResponseXml), 'userInfo')
  if (userInfo === undefined) throw new Error('GetUserInfo did not answer a <userInfo> element')
  return { serverInfoXml: serverInfoXml(redir.attrs.build, redir.attrs.instance, sessionTimeoutSeconds, now, false), userInfoXml: serialise(userInfo) }
}
