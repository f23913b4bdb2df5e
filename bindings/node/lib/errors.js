'use strict';
// libcrm's result codes as Error subclasses: one table, used by the addon
// to throw (lib/native.js hands it makeError).

/** Base class of every error libcrm reports. */
class CrmError extends Error {
  constructor(message, code, errno, detail, offset) {
    super(message);
    this.name = new.target.name;
    /** libcrm's code name, e.g. 'CRM_ECONSTRAINT' */
    this.code = code;
    /** libcrm's numeric result code */
    this.errno = errno;
    /** libcrm's JSON detail, parsed: {code, message, errors?, rows?, path?, ...} */
    this.detail = detail;
    if (offset >= 0) this.offset = offset;
  }
}
class InvalidError extends CrmError {}
class NotFoundError extends CrmError {}
class ConflictError extends CrmError {}
/** A record failed validation: `errors` lists every failing field, `rows` every failing batch row. */
class ValidationError extends CrmError {
  constructor(...args) {
    super(...args);
    this.errors = (this.detail && this.detail.errors) || [];
    this.rows = (this.detail && this.detail.rows) || [];
  }
}
class PermissionError extends CrmError {}
class ScriptError extends CrmError {}
class BusyError extends CrmError {}
class OutOfMemoryError extends CrmError {}
class IOError extends CrmError {}
class LimitError extends CrmError {}
class MisuseError extends CrmError {}
class ExistsError extends CrmError {}

const byCode = {
  1: ['CRM_ERROR', CrmError],
  2: ['CRM_EINVAL', InvalidError],
  3: ['CRM_ENOTFOUND', NotFoundError],
  4: ['CRM_ECONFLICT', ConflictError],
  5: ['CRM_ECONSTRAINT', ValidationError],
  6: ['CRM_EPERM', PermissionError],
  7: ['CRM_ESCRIPT', ScriptError],
  8: ['CRM_EBUSY', BusyError],
  9: ['CRM_ENOMEM', OutOfMemoryError],
  10: ['CRM_EIO', IOError],
  11: ['CRM_ELIMIT', LimitError],
  12: ['CRM_EMISUSE', MisuseError],
  13: ['CRM_EEXISTS', ExistsError],
};

function makeError(errno, message, detailJson, offset, summaryJson) {
  const [code, Cls] = byCode[errno] || ['CRM_ERROR', CrmError];
  let detail;
  try {
    detail = detailJson ? JSON.parse(detailJson) : { code, message };
  } catch {
    detail = { code, message };
  }
  const err = new Cls(message, code, errno, detail, offset);
  if (summaryJson) err.summary = JSON.parse(summaryJson);
  return err;
}

module.exports = {
  CrmError, InvalidError, NotFoundError, ConflictError, ValidationError, PermissionError, ScriptError,
  BusyError, OutOfMemoryError, IOError, LimitError, MisuseError, ExistsError, makeError,
};
