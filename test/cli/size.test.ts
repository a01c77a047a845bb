import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/cli/size.js';

describe('parseByteSize', () => {
  it.each([
    ['1024', 1024], ['512MB', 512e6], ['1GB', 1e9], ['1GiB', 2 ** 30], ['512 MiB', 512 * 2 ** 20], ['1.5kb', 1500], ['10b', 10],
  ])('%s is %d bytes', (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(['', 'lots', '-5', '0', '1XB', '1e3'])('%s is not a size', (text) => expect(parseByteSize(text)).toBeNull());
});
