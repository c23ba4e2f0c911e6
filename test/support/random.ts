/** Small seeded PRNG (mulberry32): the same seed gives the same sequence, so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every item `times` times, shuffled (Fisher–Yates) with the seeded PRNG: a redelivery storm that can be replayed. */
export function shuffledRepeats<T>(items: readonly T[], times: number, seed: number): T[] {
  const random = prng(seed);
  const out = items.flatMap((m) => Array.from({ length: times }, () => m));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
