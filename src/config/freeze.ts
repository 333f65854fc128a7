/** Deep freezing for the configuration, which is shared by every request and must not drift. */

/** Freezes `value` and everything reachable through its own properties. */
export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}

/**
 * A Map whose `set`, `delete` and `clear` throw a TypeError, as assigning
 * to a frozen object does in strict mode. `Object.freeze` alone cannot
 * protect a Map's entries; only `Map.prototype.set.call(map, ...)` still
 * could, which no code here does.
 */
export class FrozenMap<K, V> extends Map<K, V> {
  constructor (entries: Iterable<readonly [K, V]>) {
    super()
    for (const [key, value] of entries) super.set(key, value)
    Object.freeze(this)
  }

  override set (): never {
    throw frozen()
  }

  override delete (): never {
    throw frozen()
  }

  override clear (): never {
    throw frozen()
  }
}

function frozen (): TypeError {
  return new TypeError('cannot modify a frozen configuration map')
}
