/** Escapes text for an XML text node or a single- or double-quoted attribute value. */
export function escapeXml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string)
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}

/** Serialises attributes in the given order as ` name="value"` pairs. */
export function xmlAttributes (attributes: Readonly<Record<string, string | number | boolean | undefined>>): string {
  let out = ''
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue
    out += ` ${name}="${escapeXml(String(value))}"`
  }
  return out
}

/** Campaign's timestamp format in responses: `2021-08-27 15:43:48.862Z`. */
export function campaignTimestamp (ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ')
}
