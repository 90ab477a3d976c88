import { createInterface } from 'node:readline';
import { Readable, Transform, TransformCallback } from 'node:stream';

/**
 * The longest line an export file may hold. An export line is one stored event or key record: the
 * services bound a mission's text and an agent's reply far below this, so a longer line is no
 * export's, and reading on would hold it whole in memory (readline keeps a line until its end).
 */
export const MAX_EXPORT_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Passes bytes through until a line grows past `maxLineBytes`, then fails with `line N is longer
 * than …` (the wording import's refusals start with).
 */
class LineLengthLimit extends Transform {
  private lineBytes = 0;
  private lineNumber = 1;

  constructor(private readonly maxLineBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.lineBytes += newline - start;
      if (this.lineBytes > this.maxLineBytes) return callback(this.tooLong());
      this.lineBytes = 0;
      this.lineNumber += 1;
      start = newline + 1;
    }
    this.lineBytes += chunk.length - start;
    if (this.lineBytes > this.maxLineBytes) return callback(this.tooLong());
    callback(null, chunk);
  }

  /** Whether bytes followed the last line feed passed through: a file that ends mid-line. */
  get endsMidLine(): boolean {
    return this.lineBytes > 0;
  }

  private tooLong(): Error {
    return new Error(`line ${this.lineNumber} is longer than ${this.maxLineBytes} bytes, which no export line is`);
  }
}

/** The lines of an export file, as exportFileLines reads them. */
export interface ExportFileLines extends AsyncIterable<string> {
  /**
   * Once every line is read, whether the last has no line feed after it: every line an export
   * writes ends with one, so a file that ends mid-line was cut short.
   */
  readonly endsMidLine: boolean;
}

/** The lines of an export file, each at most `maxLineBytes` long (see MAX_EXPORT_LINE_BYTES). */
export function exportFileLines(input: Readable, maxLineBytes = MAX_EXPORT_LINE_BYTES): ExportFileLines {
  const limited = new LineLengthLimit(maxLineBytes);
  // A read error of the file reaches the reader of the lines, as the limit's own does.
  input.once('error', (error) => limited.destroy(error));
  const lines = createInterface({ input: input.pipe(limited), crlfDelay: Infinity });
  return {
    [Symbol.asyncIterator]: () => lines[Symbol.asyncIterator](),
    get endsMidLine() {
      return limited.endsMidLine;
    },
  };
}
