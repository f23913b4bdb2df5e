'use strict';
// Loads the addon: LIBCRM_NODE_ADDON (a path) wins, then the copy the
// install step put in build/.
const path = require('path');
const { makeError } = require('./errors');

const file = process.env.LIBCRM_NODE_ADDON || path.join(__dirname, '..', 'build', 'libcrm.node');
const native = require(file);
native.setup(makeError, JSON.parse);
module.exports = native;
