import { defineParitySuite } from '../../test/efficientnet-parity-suite.js';

defineParitySuite('wasm', { float16: true });
