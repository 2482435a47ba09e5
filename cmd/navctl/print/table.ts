// Column-aligned text as kubectl prints it: every column as wide as its widest cell, three spaces
// between columns, the last column unpadded.

const GAP = '   ';

export class Table {
  private readonly widths: number[];

  constructor(readonly headers: readonly string[]) {
    this.widths = headers.map((h) => h.length);
  }

  /** Widens the columns to fit these rows (call before printing them, for aligned output). */
  fit(rows: readonly (readonly string[])[]): this {
    for (const r of rows) r.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, c.length)));
    return this;
  }

  line(cells: readonly string[]): string {
    return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(this.widths[i] ?? 0))).join(GAP).trimEnd() + '\n';
  }

  header(): string {
    return this.line(this.headers);
  }

  /** Header and rows, aligned. */
  render(rows: readonly (readonly string[])[]): string {
    this.fit(rows);
    return this.header() + rows.map((r) => this.line(r)).join('');
  }
}
