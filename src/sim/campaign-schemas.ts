/**
 * The schemas the Campaign simulator knows, as data: they drive the schema
 * documents returned by `xtk:persist#GetEntityIfMoreRecent`, the output
 * element names and types of every response, and the generated WSDL.
 */
import { escapeXml, xmlAttributes } from '../soap/xml.js'
import type { SoapOutput } from '../soap/envelope.js'

export type ParamType = 'string' | 'boolean' | 'byte' | 'long' | 'int64' | 'DOMDocument' | 'DOMElement'

export interface ParamDef {
  readonly name: string
  readonly type: ParamType
  readonly inout?: 'in' | 'out'
  readonly desc?: string
}

export interface MethodDef {
  readonly name: string
  readonly static?: boolean
  readonly const?: boolean
  readonly params: readonly ParamDef[]
}

export interface SchemaDef {
  readonly namespace: string
  readonly name: string
  readonly implements?: string
  readonly interfaces?: readonly { readonly name: string, readonly methods: readonly MethodDef[] }[]
  readonly elements: readonly string[]
  readonly methods: readonly MethodDef[]
}

const DOC = 'DOMDocument'
const PERSIST_METHODS: readonly MethodDef[] = [
  { name: 'Write', static: true, params: [{ name: 'doc', type: DOC, desc: 'Entity to write (`_operation` insert, update, insertOrUpdate or delete).' }] },
  {
    name: 'GetEntityIfMoreRecent',
    static: true,
    params: [
      { name: 'pk', type: 'string' },
      { name: 'md5', type: 'string' },
      { name: 'mustExist', type: 'boolean' },
      { name: 'doc', type: DOC, inout: 'out' },
    ],
  },
]

export const SCHEMAS: readonly SchemaDef[] = [
  {
    namespace: 'xtk',
    name: 'session',
    implements: 'xtk:persist',
    interfaces: [{ name: 'persist', methods: PERSIST_METHODS }],
    elements: ['session', 'sessionInfo', 'userInfo'],
    methods: [
      {
        name: 'Logon',
        static: true,
        params: [
          { name: 'login', type: 'string' },
          { name: 'password', type: 'string' },
          { name: 'parameters', type: 'DOMElement' },
          { name: 'sessionToken', type: 'string', inout: 'out' },
          { name: 'sessionInfo', type: 'DOMElement', inout: 'out' },
          { name: 'securityToken', type: 'string', inout: 'out' },
        ],
      },
      {
        name: 'BearerTokenLogon',
        static: true,
        params: [
          { name: 'bearerToken', type: 'string' },
          { name: 'sessionToken', type: 'string', inout: 'out' },
          { name: 'sessionInfo', type: 'DOMElement', inout: 'out' },
          { name: 'securityToken', type: 'string', inout: 'out' },
        ],
      },
      { name: 'Logoff', static: true, params: [] },
      {
        name: 'GetOption',
        static: true,
        params: [
          { name: 'name', type: 'string' },
          { name: 'value', type: 'string', inout: 'out' },
          { name: 'type', type: 'byte', inout: 'out' },
        ],
      },
      { name: 'GetUserInfo', static: true, params: [{ name: 'userInfo', type: 'DOMElement', inout: 'out' }] },
    ],
  },
  {
    namespace: 'xtk',
    name: 'persist',
    elements: [],
    methods: PERSIST_METHODS,
  },
  {
    namespace: 'xtk',
    name: 'queryDef',
    elements: ['queryDef'],
    methods: [
      { name: 'ExecuteQuery', const: true, params: [{ name: 'output', type: DOC, inout: 'out', desc: 'Output XML document' }] },
    ],
  },
  {
    namespace: 'nms',
    name: 'rtEvent',
    elements: ['rtEvent'],
    methods: [
      {
        name: 'PushEvent',
        static: true,
        params: [
          { name: 'domEvent', type: DOC, desc: 'Event.' },
          { name: 'id', type: 'int64', inout: 'out', desc: 'Technical identifier of the inserted event' },
        ],
      },
      {
        name: 'PushEvents',
        static: true,
        params: [
          { name: 'domEventCollection', type: DOC, desc: 'Events.' },
          { name: 'ids', type: DOC, inout: 'out', desc: 'Technical identifiers of the inserted events' },
        ],
      },
    ],
  },
]

const SCHEMA_BY_ID = new Map(SCHEMAS.map(s => [`${s.namespace}:${s.name}`, s]))

export function findSchema (id: string): SchemaDef | undefined {
  return SCHEMA_BY_ID.get(id)
}

/** The definition of `schema#method`, looking in the schema's methods then its interfaces. */
export function findMethod (schemaId: string, method: string): MethodDef | undefined {
  const schema = SCHEMA_BY_ID.get(schemaId)
  if (schema === undefined) return undefined
  return schema.methods.find(m => m.name === method) ??
    schema.interfaces?.flatMap(i => i.methods).find(m => m.name === method)
}

// Campaign names outputs with a Hungarian prefix of their type: pstrValue, pbtType, pdomDoc, plId, pSessionInfo.
const OUTPUT_PREFIX: Record<ParamType, string> = {
  string: 'pstr', boolean: 'pb', byte: 'pbt', long: 'pl', int64: 'pl', DOMDocument: 'pdom', DOMElement: 'p',
}
const XSD_TYPE = { string: 'string', boolean: 'boolean', byte: 'byte', long: 'int', int64: 'long' } as const

export function outputName (param: ParamDef): string {
  return OUTPUT_PREFIX[param.type] + param.name.charAt(0).toUpperCase() + param.name.slice(1)
}

/**
 * Pairs a method's out-parameters, in order, with values: strings and
 * numbers for scalar types, XML text for DOM types.
 */
export function methodOutputs (method: MethodDef, values: readonly (string | number | boolean)[]): SoapOutput[] {
  const outs = method.params.filter(p => p.inout === 'out')
  if (outs.length !== values.length) throw new Error(`${method.name} has ${outs.length} outputs, got ${values.length} values`)
  return outs.map((param, i) => {
    const value = values[i] as string | number | boolean
    if (param.type === 'DOMDocument' || param.type === 'DOMElement') return { name: outputName(param), type: 'element', xml: String(value) }
    return { name: outputName(param), type: XSD_TYPE[param.type], value }
  })
}

function methodXml (method: MethodDef): string {
  const params = method.params.map(p => `<param${xmlAttributes({ name: p.name, type: p.type, inout: p.inout, desc: p.desc })}/>`).join('')
  return `<method${xmlAttributes({ name: method.name, static: method.static, const: method.const })}>` +
    (params === '' ? '' : `<parameters>${params}</parameters>`) + '</method>'
}

/** The `<schema>` document returned for `xtk:schema|<id>`. */
export function schemaXml (schema: SchemaDef): string {
  const interfaces = (schema.interfaces ?? [])
    .map(i => `<interface name="${escapeXml(i.name)}">${i.methods.map(methodXml).join('')}</interface>`).join('')
  const elements = schema.elements.map(e => `<element name="${escapeXml(e)}"/>`).join('')
  return `<schema${xmlAttributes({ namespace: schema.namespace, name: schema.name, implements: schema.implements })}>` +
    `${interfaces}${elements}<methods>${schema.methods.map(methodXml).join('')}</methods></schema>`
}

const WSDL_TYPE: Record<ParamType, string> = {
  string: 's:string', boolean: 's:boolean', byte: 's:byte', long: 's:int', int64: 's:long', DOMDocument: 'tns:Element', DOMElement: 'tns:Element',
}

/**
 * A document/literal WSDL for a schema's methods, in the shape Campaign's
 * `schemawsdl.jsp` serves: each operation's input starts with `sessiontoken`,
 * outputs carry Campaign's prefixed names, DOM parameters are `tns:Element`
 * (any content).
 */
export function schemaWsdl (schema: SchemaDef, endpoint: string): string {
  const id = `${schema.namespace}:${schema.name}`
  const tns = `urn:${id}`
  const methods = [...schema.methods, ...(schema.interfaces ?? []).flatMap(i => i.methods)]
  const seq = (params: readonly { name: string, type: string }[]): string =>
    `<s:sequence>${params.map(p => `<s:element maxOccurs="1" minOccurs="1" name="${escapeXml(p.name)}" type="${p.type}"/>`).join('')}</s:sequence>`
  const elements = methods.map(m => {
    const ins = [{ name: 'sessiontoken', type: 's:string' }, ...m.params.filter(p => p.inout !== 'out').map(p => ({ name: p.name, type: WSDL_TYPE[p.type] }))]
    const outs = m.params.filter(p => p.inout === 'out').map(p => ({ name: outputName(p), type: WSDL_TYPE[p.type] }))
    return `<s:element name="${m.name}"><s:complexType>${seq(ins)}</s:complexType></s:element>` +
      `<s:element name="${m.name}Response"><s:complexType>${seq(outs)}</s:complexType></s:element>`
  }).join('')
  const messages = methods.map(m =>
    `<wsdl:message name="${m.name}In"><wsdl:part element="tns:${m.name}" name="parameters"/></wsdl:message>` +
    `<wsdl:message name="${m.name}Out"><wsdl:part element="tns:${m.name}Response" name="parameters"/></wsdl:message>`).join('')
  const portOps = methods.map(m =>
    `<wsdl:operation name="${m.name}"><wsdl:input message="tns:${m.name}In"/><wsdl:output message="tns:${m.name}Out"/></wsdl:operation>`).join('')
  const bindingOps = methods.map(m =>
    `<wsdl:operation name="${m.name}"><soap:operation soapAction="${id}#${m.name}" style="document"/>` +
    '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>').join('')
  const portType = `${schema.name}MethodsSoap`
  return '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" ' +
    `xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="${tns}" targetNamespace="${tns}">\n` +
    `<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="${tns}">` +
    '<s:complexType name="Element"><s:sequence><s:any processContents="lax"/></s:sequence></s:complexType>' +
    `${elements}</s:schema></wsdl:types>\n${messages}\n` +
    `<wsdl:portType name="${portType}">${portOps}</wsdl:portType>\n` +
    `<wsdl:binding name="${portType}" type="tns:${portType}"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>${bindingOps}</wsdl:binding>\n` +
    `<wsdl:service name="${schema.name}Service"><wsdl:port binding="tns:${portType}" name="${portType}"><soap:address location="${escapeXml(endpoint)}"/></wsdl:port></wsdl:service>\n` +
    '</wsdl:definitions>\n'
}
