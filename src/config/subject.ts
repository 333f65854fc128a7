/**
 * Certificate subjects as the proxy compares them: the same form for the
 * configuration's `clientCertificates[].subject` and for the certificate a
 * caller presents.
 */

/**
 * A distinguished name as the proxy compares it: `KEY=value` parts in the
 * order written, keys upper-cased, spaces around `,` and `=` dropped
 * (`cn = crm, o=Acme` → `CN=crm,O=Acme`).
 */
export function normaliseSubject (subject: string): string {
  return subject.split(',').map(part => {
    const eq = part.indexOf('=')
    return eq === -1 ? part.trim() : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`
  }).filter(part => part !== '').join(',')
}
