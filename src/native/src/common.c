#include "es_common.h"

napi_value es_throw(napi_env env, const char *message) {
  napi_throw_error(env, "EXO_SENTINEL_NATIVE", message);
  return NULL;
}

napi_value es_null(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

void es_set_val(napi_env env, napi_value obj, const char *name, napi_value value) {
  napi_set_named_property(env, obj, name, value);
}

void es_set_num(napi_env env, napi_value obj, const char *name, double value, int known) {
  napi_value v;
  if (known)
    napi_create_double(env, value, &v);
  else
    napi_get_null(env, &v);
  napi_set_named_property(env, obj, name, v);
}

void es_set_str(napi_env env, napi_value obj, const char *name, const char *value) {
  napi_value v;
  if (value)
    napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  else
    napi_get_null(env, &v);
  napi_set_named_property(env, obj, name, v);
}
