/**
 * Campaign-shaped SOAP responses and faults, built in one place.
 *
 * The shape follows what Campaign servers return and what acc-js-sdk 1.2.0
 * parses strictly: a `SOAP-ENV:` envelope, an unprefixed `<Method>Response`
 * element in the method's `urn:` namespace, positional outputs carrying
 * `xsi:type` (single-quoted attributes, as Campaign writes them).
 */
import { escapeXml } from './xml.js'

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const SOAP_ENCODING = 'http://schemas.xmlsoap.org/soap/encoding/'
export const LITERAL_XML_ENCODING = 'http://xml.apache.org/xml-soap/literalxml'
export const SOAP_CONTENT_TYPE = 'text/xml;charset=utf-8'

/** One positional output of a SOAP method response. */
export type SoapOutput =
  | { readonly name: string, readonly type: 'string' | 'byte' | 'short' | 'int' | 'long' | 'boolean' | 'dateTime', readonly value: string | number | boolean }
  /** A DOM element or document output: `xml` is inserted verbatim. */
  | { readonly name: string, readonly type: 'element', readonly xml: string }

function envelope (ns: string | undefined, body: string): string {
  const nsDecl = ns === undefined ? '' : ` xmlns:ns='${escapeXml(ns)}'`
  return "<?xml version='1.0'?>\n" +
    "<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'" +
    `${nsDecl} xmlns:SOAP-ENV='${SOAP_ENV_NS}'>\n<SOAP-ENV:Body>\n${body}</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n`
}

function serialiseOutput (output: SoapOutput): string {
  if (output.type === 'element') {
    return `<${output.name} xsi:type='ns:Element' SOAP-ENV:encodingStyle='${LITERAL_XML_ENCODING}'>${output.xml}</${output.name}>\n`
  }
  const value = typeof output.value === 'boolean' ? (output.value ? 'true' : 'false') : String(output.value)
  return `<${output.name} xsi:type='xsd:${output.type}'>${escapeXml(value)}</${output.name}>\n`
}

/**
 * Builds the response of `urn:<schema>#<method>`.
 * @param urn the method's namespace, e.g. `urn:xtk:session` (kept as the client sent it)
 * @param method the method's local name, e.g. `Logon`
 */
export function soapResponse (urn: string, method: string, outputs: readonly SoapOutput[]): string {
  const inner = outputs.map(serialiseOutput).join('')
  return envelope(urn, `<${method}Response xmlns='${escapeXml(urn)}' SOAP-ENV:encodingStyle='${SOAP_ENCODING}'>\n${inner}</${method}Response>\n`)
}

export interface SoapFaultInit {
  /** `Client` for caller errors (credentials, input), `Server` for the server's own. */
  readonly code: 'Client' | 'Server'
  /** The faultstring, starting with Campaign's message code, e.g. `XSV-350008 Session has expired...`. */
  readonly message: string
  readonly detail?: string
}

/** Builds a Campaign-shaped SOAP fault envelope. */
export function soapFault ({ code, message, detail }: SoapFaultInit): string {
  const detailXml = detail === undefined ? '' : `<detail xsi:type='xsd:string'>${escapeXml(detail)}</detail>\n`
  return envelope(undefined,
    `<SOAP-ENV:Fault>\n<faultcode>SOAP-ENV:${code}</faultcode>\n` +
    `<faultstring xsi:type='xsd:string'>${escapeXml(message)}</faultstring>\n${detailXml}</SOAP-ENV:Fault>\n`)
}
