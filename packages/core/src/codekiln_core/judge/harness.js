'use strict';
// codekiln judge harness for JavaScript (see codekiln_core/judge/javascript.py).
// Reads and deletes the judge's files before any answer code runs, locks down what tests rely
// on, runs the answer and then the tests as scripts of this realm (their top-level names are
// shared, as in one file), and prints the per-run nonce only after the last test returned.
const fs = require('fs');
const vm = require('vm');
const assert = require('assert');

const apply = Reflect.apply;
const freeze = Object.freeze;
const defineProperty = Object.defineProperty;
const writeSync = fs.writeSync;
const runScript = vm.Script.prototype.runInThisContext;
const reallyExit = typeof process.reallyExit === 'function' ? process.reallyExit : process.exit;
const AssertionError = assert.AssertionError;

function take(name) {
  let data;
  try {
    data = fs.readFileSync(name);
  } catch (error) {
    return Buffer.alloc(0);
  }
  fs.unlinkSync(name);
  return data;
}

function fail(error) {
  let text;
  try {
    text = String((error && error.stack) || error);
  } catch (_) {
    text = 'Error: (unprintable)';
  }
  apply(writeSync, fs, [2, text + '\n']);
  apply(reallyExit, process, [1]);
}

const nonce = take('.judge-nonce'); // a Buffer, never a string: it stays out of the JS heap
const answer = take('.judge-prelude.js').toString('utf8') + take('.judge-answer.js').toString('utf8');
const tests = take('.judge-tests.js').toString('utf8');
let answerScript;
let testsScript;
try {
  answerScript = new vm.Script(answer, { filename: 'main.js' });
  testsScript = new vm.Script(tests, { filename: 'tests.js' });
} catch (error) {
  fail(error);
}

// console.assert only logs in Node; the tests rely on it throwing.
function strictAssert(ok, ...message) {
  if (!ok) {
    throw new AssertionError({
      message: 'Assertion failed' + (message.length ? ': ' + message.join(' ') : ''),
      stackStartFn: strictAssert,
    });
  }
}
console.assert = strictAssert;
// What the scripts expect from a CommonJS module, and what an answer must not replace.
const shared = { require, module, exports: module.exports, __filename, __dirname };
for (const name of Object.keys(shared)) globalThis[name] = shared[name];
for (const name of ['console', 'JSON', 'Object', 'Array', 'require', 'module', 'exports',
  'process', 'Reflect']) {
  defineProperty(globalThis, name, { value: globalThis[name], writable: false,
    enumerable: false, configurable: false });
}
for (const target of [console, JSON, assert, assert.strict, Object, Array, Object.prototype,
  Array.prototype, Reflect]) {
  freeze(target);
}

try {
  apply(runScript, answerScript, []);
  apply(runScript, testsScript, []);
} catch (error) {
  fail(error);
}
apply(writeSync, fs, [1, nonce]);
