/* Module registration: one export per reader, plus the marshalling entry points the tests use. */
#include "es_common.h"

static napi_value es_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_string_utf8(env, ES_VERSION, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"version", NULL, es_version, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readMemory", NULL, es_read_memory, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listProcesses", NULL, es_list_processes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readProcessStats", NULL, es_read_process_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readGpu", NULL, es_read_gpu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"metalCeiling", NULL, es_metal_ceiling, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kextVersion", NULL, es_kext_version, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sysctl", NULL, es_sysctl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchPressure", NULL, es_watch_pressure, NULL, NULL, NULL, napi_enumerable, NULL},
      {"marshalVmStatistics", NULL, es_marshal_vm_statistics, NULL, NULL, NULL, napi_enumerable, NULL},
      {"marshalSwapUsage", NULL, es_marshal_swap_usage, NULL, NULL, NULL, napi_enumerable, NULL},
      {"marshalGpuStats", NULL, es_marshal_gpu_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"marshalProcArgs", NULL, es_marshal_procargs, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value platform;
#ifdef __APPLE__
  napi_create_string_utf8(env, "darwin", NAPI_AUTO_LENGTH, &platform);
#else
  napi_create_string_utf8(env, "linux", NAPI_AUTO_LENGTH, &platform);
#endif
  napi_set_named_property(env, exports, "platform", platform);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
