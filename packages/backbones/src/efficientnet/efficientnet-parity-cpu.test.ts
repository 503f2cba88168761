import { defineParitySuite } from '../../test/efficientnet-parity-suite.js';

defineParitySuite('cpu');
