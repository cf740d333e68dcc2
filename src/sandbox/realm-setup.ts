/**
 * The script that prepares a context before any user code runs in it, and builds the function that
 * runs user code. It is plain JavaScript in a string, not a TypeScript function turned into text:
 * the test runner and tsx rewrite functions (name helpers, down-levelling) in ways that would not
 * exist inside the isolate.
 *
 * Why a context can be reused for many evaluations: after this script, nothing in the realm is
 * writable by user code. The global object and every object reachable from it or from syntax
 * (generator, async and iterator prototypes...) is frozen, and the stateful or asynchronous
 * leftovers are removed: RegExp's legacy statics (`RegExp.$1` would show the previous row's match),
 * WeakRef and FinalizationRegistry (callbacks that run after an evaluation ended), SharedArrayBuffer
 * and Atomics (`Atomics.waitAsync` is a timer), WebAssembly (a large attack surface no transform
 * needs). User code runs in strict mode inside a function, so `x = 1` is a ReferenceError instead of
 * a new global, and its `var`s are local. A later evaluation therefore sees exactly what the first
 * one saw. If freezing any object fails the script throws, so a context is never used half-hardened.
 *
 * Freezing prototypes breaks the usual `error.name = 'X'` or `obj.toString = f` on objects that
 * inherit a frozen property (the "override mistake"). The common ones are turned into accessors
 * whose setter defines the property on the object assigned to, as SES does.
 *
 * The script evaluates to `makeRunner(userFunction)`, which answers `{ run, collect }`. `run` takes
 * the JSON text of the argument list and answers `[kind, payload]`:
 * - `['ok', jsonText]`: the result, converted to JSON text inside the isolate (Dates become ISO
 *   strings through their toJSON, `undefined` becomes null);
 * - `['threw', {name, message, stack}]`: user code threw or its promise rejected;
 * - `['result', reason]`: the result is not JSON (a function, a Map, NaN, a BigInt, a cycle...);
 * - `['pending', id]`: user code returned a promise; `collect(id)` answers its outcome, or
 *   `['never', id]` if it is still pending. isolated-vm drains the microtask queue before a call
 *   ends, under that call's time limit, and nothing else in the isolate can settle a promise later
 *   (no timers, no I/O), so a promise still pending when `collect` runs will never settle. This
 *   replaces a host-side timer, which would also count the time a call waits in the isolate's queue.
 * Only timeouts and the memory limit end an evaluation any other way; both are uncatchable.
 */
export const REALM_SETUP_SOURCE = String.raw`(function () {
  'use strict';
  const G = globalThis;
  for (const name of ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'WeakRef', 'FinalizationRegistry']) {
    delete G[name];
  }
  for (const key of Reflect.ownKeys(RegExp)) {
    if (typeof key === 'string' && key !== 'length' && key !== 'name' && key !== 'prototype') delete RegExp[key];
  }

  function tame(proto, key) {
    const desc = Reflect.getOwnPropertyDescriptor(proto, key);
    if (!desc || !('value' in desc) || !desc.configurable) return;
    const value = desc.value;
    Reflect.defineProperty(proto, key, {
      enumerable: desc.enumerable,
      configurable: false,
      get() {
        return value;
      },
      set(next) {
        if (this === proto) throw new TypeError('Cannot assign to read only property ' + String(key));
        const defined = Reflect.defineProperty(this, key, {
          value: next,
          writable: true,
          enumerable: true,
          configurable: true,
        });
        if (!defined) throw new TypeError('Cannot assign to property ' + String(key));
      },
    });
  }
  const objectKeys = ['constructor', 'toString', 'valueOf', 'toLocaleString', 'hasOwnProperty'];
  for (const key of objectKeys) tame(Object.prototype, key);
  for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError]) {
    for (const key of ['constructor', 'name', 'message', 'toString']) tame(E.prototype, key);
  }
  for (const key of ['constructor', 'toString']) {
    tame(Function.prototype, key);
    tame(Array.prototype, key);
  }

  const roots = [G];
  const probes = [
    () => function* () {},
    () => async function () {},
    () => async function* () {},
    () => [][Symbol.iterator](),
    () => new Map()[Symbol.iterator](),
    () => new Set()[Symbol.iterator](),
    () => ''[Symbol.iterator](),
    () => 'a'.matchAll(/a/g),
    () => new Intl.Segmenter().segment('a'),
    () => new Intl.Segmenter().segment('a')[Symbol.iterator](),
    () => [].values().map((x) => x),
    () => Iterator.from({ next: () => ({ done: true }) }),
  ];
  // Probes for features this V8 lacks (iterator helpers before Node 22) throw: nothing to freeze.
  for (const probe of probes) {
    try {
      roots.push(probe());
    } catch {}
  }
  const seen = new Set();
  const pending = roots.slice();
  while (pending.length > 0) {
    const item = pending.pop();
    if ((typeof item !== 'object' && typeof item !== 'function') || item === null || seen.has(item)) continue;
    seen.add(item);
    if (!Object.isFrozen(Object.freeze(item))) throw new Error('sandbox setup could not freeze an intrinsic');
    pending.push(Reflect.getPrototypeOf(item));
    for (const key of Reflect.ownKeys(item)) {
      const desc = Reflect.getOwnPropertyDescriptor(item, key);
      if (desc === undefined) continue;
      if ('value' in desc) pending.push(desc.value);
      else pending.push(desc.get, desc.set);
    }
  }

  const { stringify, parse } = JSON;
  const apply = Reflect.apply;
  const getPrototypeOf = Reflect.getPrototypeOf;
  const isArray = Array.isArray;
  const isFiniteNumber = Number.isFinite;
  const isNaNNumber = Number.isNaN;
  const ObjectPrototype = Object.prototype;
  const NativePromise = Promise;
  const NativeDate = Date;
  const dateValue = Function.prototype.call.bind(Date.prototype.getTime);
  const then = Function.prototype.call.bind(Promise.prototype.then);
  const toText = String;

  class Refusal {
    constructor(what) {
      this.what = what;
    }
  }
  function kindOf(value) {
    try {
      const ctor = getPrototypeOf(value).constructor;
      if (typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name !== '') return 'a ' + ctor.name;
    } catch {}
    return 'an object that is not plain';
  }
  function replacer(key, value) {
    const original = this[key];
    if (original instanceof NativeDate && isNaNNumber(dateValue(original))) throw new Refusal('an invalid Date');
    switch (typeof value) {
      case 'function':
        throw new Refusal('a function');
      case 'symbol':
        throw new Refusal('a symbol');
      case 'bigint':
        throw new Refusal('a BigInt (return it as a string)');
      case 'number':
        if (!isFiniteNumber(value)) throw new Refusal(toText(value));
        return value;
      case 'object': {
        if (value === null || isArray(value)) return value;
        const proto = getPrototypeOf(value);
        if (proto !== ObjectPrototype && proto !== null) throw new Refusal(kindOf(value));
        return value;
      }
      default:
        return value;
    }
  }
  function settle(result) {
    try {
      const text = stringify(result === undefined ? null : result, replacer);
      return ['ok', text === undefined ? 'null' : text];
    } catch (err) {
      if (err instanceof Refusal) return ['result', err.what];
      return ['result', 'a value JSON cannot represent (' + describe(err).message + ')'];
    }
  }
  // Errors are named by name and message; anything else that is thrown (a string, a plain object)
  // by its JSON text, with an empty name.
  function describe(err) {
    try {
      if (err instanceof Error) {
        const stack = typeof err.stack === 'string' ? err.stack : '';
        return { name: toText(err.name), message: toText(err.message), stack };
      }
      let text;
      try {
        text = stringify(err);
      } catch {}
      return { name: '', message: text === undefined ? toText(err) : text, stack: '' };
    } catch {
      return { name: '', message: 'a value that cannot be read', stack: '' };
    }
  }
  function threw(err) {
    return ['threw', describe(err)];
  }
  // Outcomes of promises, by call id, until the host collects them. Only this closure can reach it.
  const outcomes = new Map();
  let lastId = 0;
  return function makeRunner(userFunction) {
    function run(argsJson) {
      let result;
      try {
        result = apply(userFunction, undefined, parse(argsJson));
      } catch (err) {
        return threw(err);
      }
      if (!(result instanceof NativePromise)) return settle(result);
      const id = ++lastId;
      then(
        result,
        (value) => outcomes.set(id, settle(value)),
        (err) => outcomes.set(id, threw(err)),
      );
      return ['pending', id];
    }
    function collect(id) {
      const outcome = outcomes.get(id);
      outcomes.delete(id);
      return outcome === undefined ? ['never', id] : outcome;
    }
    return Object.freeze({ run, collect });
  };
})()`;
