'use strict';
/**
 * A blocking write for the test writer processes, even when the descriptor is non-blocking (a
 * socketpair end can be): on EAGAIN it sleeps 1 ms and tries again, so the writer stalls exactly
 * where a blocking one would — as a real server's stderr write stalls when the router stops reading.
 */
const fs = require('node:fs');

function writeAll(fd, text) {
  let buffer = Buffer.from(text);
  while (buffer.length > 0) {
    try {
      buffer = buffer.subarray(fs.writeSync(fd, buffer));
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

module.exports = { writeAll };
