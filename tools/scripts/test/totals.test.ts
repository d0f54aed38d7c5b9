import { summarise } from '../src/totals.js';

const row = (name: string, passed: number, failed: number, skipped: number) =>
  JSON.stringify({ package: name, passed, failed, skipped });

describe('the closing lines of pnpm test', () => {
  it('adds every package up into the one plain totals line', () => {
    const { lines, ok } = summarise(`${row('@es/core', 10, 0, 1)}\n${row('@es/sql', 5, 0, 2)}\n`, false);
    expect(lines.at(-1)).toBe('15 passed, 0 failed, 3 skipped');
    expect(lines[0]).toMatch(/^ {2}@es\/core +10 passed, 0 failed, 1 skipped$/);
    expect(ok).toBe(true);
  });

  it('counts failures', () => {
    const { lines, ok } = summarise(row('@es/sql', 5, 2, 0), true);
    expect(lines.at(-1)).toBe('5 passed, 2 failed, 0 skipped');
    expect(ok).toBe(false);
  });

  it('counts a failed run that reported no counts (a jest that could not start) as one failure', () => {
    expect(summarise('', true)).toEqual({ lines: ['0 passed, 1 failed, 0 skipped'], ok: false });
    expect(summarise('', false)).toEqual({ lines: ['0 passed, 0 failed, 0 skipped'], ok: true });
  });
});
