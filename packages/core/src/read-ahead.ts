/**
 * Pages read one ahead: each page's read starts before the page before it is handed over, so a server
 * reads and sends the next page while the caller works on this one, where reading page after page
 * would leave each side waiting for the other (and a sequence that ends on a page boundary costs its
 * final, empty read no wait of its own).
 *
 * `read(previous)` starts the read that follows `previous` (the first read when it is undefined), or
 * returns undefined when there is nothing more to read. Empty pages are not handed over. A read ahead
 * is handled as soon as it is made: its failure reaches the caller at the page it would have given, and
 * a caller that stops early never hears of it (nor does the process, as an unhandled rejection).
 */
export async function* readAhead<T>(
  read: (previous: T[] | undefined) => Promise<T[]> | undefined,
): AsyncGenerator<T[], void, undefined> {
  let next = read(undefined);
  while (next !== undefined) {
    const page = await next;
    next = read(page);
    next?.catch(() => {});
    if (page.length > 0) yield page;
  }
}
