import { hash, randomFillSync } from 'node:crypto';

/** A record key (`recordKey`) is a SHA-1 digest: 20 bytes, held as five 32-bit words. */
const KEY_WORDS = 5;
const KEY_CHARS = KEY_WORDS * 4;

/**
 * A bounded set of recently seen keys: once full, adding a key forgets the oldest one; adding a known key again makes
 * it the newest.
 *
 * Built for record keys (the 20-character 'binary' SHA-1 digests of `recordKey`) and allocating nothing per key: the
 * keys sit in typed arrays of `capacity` slots, kept in age order by a doubly linked list of slot numbers, and found
 * through an open-addressing table (linear probing, at most half full, deletion by shifting back so no tombstones pile
 * up). A Set of strings churned at 100,000 entries spent a fifth of its time collecting garbage. A key of any other
 * form is digested first.
 *
 * The table is indexed by a hash of the digest's bytes seeded at random per instance: digests are of content a client
 * controls, and without the seed a client could grind events whose digests land in one bucket (18 bits cost a few
 * hundred thousand SHA-1s), making every lookup walk all of them.
 *
 * The arrays are zero-filled and every "none" is 0 (slot numbers are stored plus one), so pages a small relay never
 * fills are never made resident.
 */
export class RecentKeys {
  /** Each slot's key. */
  readonly #words: Int32Array;
  /** Each slot's bucket in the table. */
  readonly #bucketOf: Int32Array;
  /** Each slot's next older and next newer slot, plus one; 0 for none. */
  readonly #older: Int32Array;
  readonly #newer: Int32Array;
  /**
   * The open-addressing table, two numbers per bucket: a slot number plus one (0 for an empty bucket) and that key's
   * seeded hash, beside it so that probing reads one place in memory.
   */
  readonly #buckets: Int32Array;
  readonly #mask: number;
  readonly #seed = randomFillSync(new Int32Array(KEY_WORDS + 1));
  /** The key being looked up, read out of its string once. */
  readonly #key = new Int32Array(KEY_WORDS);
  #size = 0;
  /** The oldest and the newest slot, plus one; 0 while empty. */
  #oldest = 0;
  #newest = 0;

  constructor(readonly capacity: number) {
    this.#words = new Int32Array(capacity * KEY_WORDS);
    this.#bucketOf = new Int32Array(capacity);
    this.#older = new Int32Array(capacity);
    this.#newer = new Int32Array(capacity);
    const buckets = 2 ** Math.ceil(Math.log2(Math.max(2, capacity * 2)));
    this.#buckets = new Int32Array(buckets * 2);
    this.#mask = buckets - 1;
  }

  has(key: string): boolean {
    return this.#find(this.#read(key)) !== 0;
  }

  add(key: string): void {
    if (this.capacity === 0) return;
    const keyHash = this.#read(key);
    const found = this.#find(keyHash);
    if (found !== 0) {
      this.#unlink(found - 1);
      this.#linkNewest(found - 1);
      return;
    }
    let slot: number;
    if (this.#size < this.capacity) slot = this.#size++;
    else {
      slot = this.#oldest - 1;
      this.#unlink(slot);
      this.#removeBucketOf(slot);
    }
    this.#words.set(this.#key, slot * KEY_WORDS);
    this.#linkNewest(slot);
    const buckets = this.#buckets;
    let bucket = keyHash & this.#mask;
    while (buckets[bucket * 2] !== 0) bucket = (bucket + 1) & this.#mask;
    this.#place(slot + 1, keyHash, bucket);
  }

  get size(): number {
    return this.#size;
  }

  /** How many buckets a lookup of this key examines: what an adversary's keys would drive up (for tests). */
  probeLength(key: string): number {
    const keyHash = this.#read(key);
    const buckets = this.#buckets;
    let probes = 1;
    for (let bucket = keyHash & this.#mask; buckets[bucket * 2] !== 0 && !this.#holds(bucket, keyHash); bucket = (bucket + 1) & this.#mask) probes++;
    return probes;
  }

  /** Reads the key's words into `#key` and returns its seeded hash. */
  #read(key: string): number {
    const words = this.#key;
    let isDigest = key.length === KEY_CHARS;
    for (let word = 0; word < KEY_WORDS && isDigest; word++) {
      const at = word * 4;
      const a = key.charCodeAt(at);
      const b = key.charCodeAt(at + 1);
      const c = key.charCodeAt(at + 2);
      const d = key.charCodeAt(at + 3);
      isDigest = ((a | b | c | d) & ~0xff) === 0;
      words[word] = a | (b << 8) | (c << 16) | (d << 24);
    }
    if (!isDigest) return this.#read(hash('sha1', key, 'binary'));
    return seededHash(words, this.#seed);
  }

  /** The slot holding `#key`, plus one; 0 when none does. */
  #find(keyHash: number): number {
    const buckets = this.#buckets;
    for (let bucket = keyHash & this.#mask; ; bucket = (bucket + 1) & this.#mask) {
      const held = buckets[bucket * 2]!;
      if (held === 0 || this.#holds(bucket, keyHash)) return held;
    }
  }

  /** Whether the (occupied) bucket holds `#key`. */
  #holds(bucket: number, keyHash: number): boolean {
    const buckets = this.#buckets;
    if (buckets[bucket * 2 + 1] !== keyHash) return false;
    const words = this.#words;
    const key = this.#key;
    const at = (buckets[bucket * 2]! - 1) * KEY_WORDS;
    return words[at] === key[0] && words[at + 1] === key[1] && words[at + 2] === key[2] && words[at + 3] === key[3] && words[at + 4] === key[4];
  }

  #unlink(slot: number): void {
    const older = this.#older[slot]!;
    const newer = this.#newer[slot]!;
    if (older !== 0) this.#newer[older - 1] = newer;
    else this.#oldest = newer;
    if (newer !== 0) this.#older[newer - 1] = older;
    else this.#newest = older;
  }

  #linkNewest(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = 0;
    if (this.#newest !== 0) this.#newer[this.#newest - 1] = slot + 1;
    else this.#oldest = slot + 1;
    this.#newest = slot + 1;
  }

  /**
   * Empties the slot's bucket and shifts later entries of its probe run back into the gap, so that every key stays
   * reachable from its home bucket without tombstones.
   */
  #removeBucketOf(slot: number): void {
    const buckets = this.#buckets;
    const mask = this.#mask;
    let hole = this.#bucketOf[slot]!;
    for (let bucket = (hole + 1) & mask; buckets[bucket * 2] !== 0; bucket = (bucket + 1) & mask) {
      const keyHash = buckets[bucket * 2 + 1]!;
      const home = keyHash & mask;
      // Movable into the hole unless its home lies after the hole on the way to where it is now.
      if (((bucket - home) & mask) >= ((bucket - hole) & mask)) {
        this.#place(buckets[bucket * 2]!, keyHash, hole);
        hole = bucket;
      }
    }
    buckets[hole * 2] = 0;
  }

  #place(held: number, keyHash: number, bucket: number): void {
    this.#buckets[bucket * 2] = held;
    this.#buckets[bucket * 2 + 1] = keyHash;
    this.#bucketOf[held - 1] = bucket;
  }
}

/** MurmurHash3's mixing of the key's words, each word also xored with a word of the seed. */
function seededHash(words: Int32Array, seed: Int32Array): number {
  let h = seed[KEY_WORDS]!;
  for (let word = 0; word < KEY_WORDS; word++) {
    let k = Math.imul(words[word]! ^ seed[word]!, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
