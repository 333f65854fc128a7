/**
 * The one place the proxy reads a stream partly: every body it inspects
 * (a SOAP request's head, a whole small request) is pulled with these, and
 * whatever it does not need is handed on as a stream, so memory per
 * request stays bounded by the limit given, whatever the body's size.
 */
/** Chunks read so far. */
export interface Gathered {
  readonly chunks: Buffer[]
  size: number
  /** Small chunks at the end of `chunks`, not yet joined. */
  small: number
}

export function gathered (): Gathered {
  return { chunks: [], size: 0, small: 0 }
}

/** A chunk under this size is small: a socket read brings up to 64 KiB, a client sending a few bytes at a time far less. */
export const SMALL_CHUNK_BYTES = 4096
/**
 * Small chunks in a row are joined into one when there are this many, so
 * that a body trickled a byte per read is held in about a sixty-fourth as
 * many objects (each costs far more than one byte), with each byte copied
 * once.
 */
export const MAX_SMALL_CHUNKS = 64

/** Adds `chunk` to `into`, joining the small chunks at its end when MAX_SMALL_CHUNKS of them wait. */
export function gather (into: Gathered, chunk: Buffer): void {
  into.chunks.push(chunk)
  into.size += chunk.length
  if (chunk.length >= SMALL_CHUNK_BYTES) {
    into.small = 0
    return
  }
  into.small += 1
  if (into.small < MAX_SMALL_CHUNKS) return
  const run = into.chunks.splice(into.chunks.length - MAX_SMALL_CHUNKS)
  into.chunks.push(Buffer.concat(run))
  into.small = 0
}

/** The gathered bytes as one buffer (no copy for a single chunk). */
export function joined ({ chunks, size }: Pick<Gathered, 'chunks' | 'size'>): Buffer {
  return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size)
}

/**
 * Pulls chunks from `iterator` into `into` until it ends (true) or holds
 * at least `limit` bytes (false). Nothing is read past the chunk that
 * crosses the limit.
 */
export async function readUpTo (iterator: AsyncIterator<Buffer>, limit: number, into: Gathered): Promise<boolean> {
  while (into.size < limit) {
    const next = await iterator.next()
    if (next.done === true) return true
    gather(into, next.value)
  }
  return false
}

/**
 * Every chunk of a readable stream whose length the caller has bounded
 * (a declared Content-Length), as they came but for runs of small ones
 * (`gather`), joined only by whoever needs one buffer: plain events,
 * cheaper than an async iterator on the hot path.
 */
export function readAll (source: NodeJS.ReadableStream): Promise<Gathered> {
  return new Promise((resolve, reject) => {
    const into = gathered()
    const onData = (chunk: Buffer): void => { gather(into, chunk) }
    const cleanup = (): void => {
      source.off('data', onData)
      source.off('end', onEnd)
      source.off('error', onError)
      source.off('close', onClose)
    }
    const onEnd = (): void => { cleanup(); resolve(into) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const onClose = (): void => { cleanup(); reject(Object.assign(new Error('the stream closed before its end'), { code: 'ECONNRESET' })) }
    source.on('data', onData)
    source.once('end', onEnd)
    source.once('error', onError)
    source.once('close', onClose)
  })
}
