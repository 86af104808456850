/** Stores each distinct string once and hands out a small integer for it. */
export class Interner {
  private readonly indexOf = new Map<string, number>();
  private readonly values: string[] = [];

  intern(value: string): number {
    let index = this.indexOf.get(value);
    if (index === undefined) {
      index = this.values.length;
      this.values.push(value);
      this.indexOf.set(value, index);
    }
    return index;
  }

  valueOf(index: number): string {
    const value = this.values[index];
    if (value === undefined) throw new RangeError(`no interned string #${index}`);
    return value;
  }

  get size(): number {
    return this.values.length;
  }
}
