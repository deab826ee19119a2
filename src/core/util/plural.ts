/** A count with the noun it counts, singular for exactly one: "1 search", "3 searches", "0 searches". */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
