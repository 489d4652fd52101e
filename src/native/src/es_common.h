/*
 * exo-sentinel native sampling core: what every reader shares.
 * Node-API only (NAPI_VERSION 9): one binary loads in the project's Node and in Electron's.
 */
#ifndef ES_COMMON_H
#define ES_COMMON_H

#define NAPI_VERSION 9
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define ES_VERSION "1.0.0"

/* The bytes of a process's command line read (the JS procfs reader reads as many): what a process can make
 * the daemon hold for it each time the process table is read. */
#define ES_ARGV_BYTES (16 * 1024)

/* Throws a JS Error with the message and returns NULL (for `return es_throw(env, "...")`). */
napi_value es_throw(napi_env env, const char *message);
/* Sets obj[name] to a number, or to null when `known` is 0. */
void es_set_num(napi_env env, napi_value obj, const char *name, double value, int known);
void es_set_str(napi_env env, napi_value obj, const char *name, const char *value);
void es_set_val(napi_env env, napi_value obj, const char *name, napi_value value);
napi_value es_null(napi_env env);

/* Readers each platform file provides (darwin.c or linux.c). Each returns a JS value or throws. */
napi_value es_read_memory(napi_env env, napi_callback_info info);
napi_value es_list_processes(napi_env env, napi_callback_info info);
napi_value es_read_process_stats(napi_env env, napi_callback_info info);
napi_value es_read_gpu(napi_env env, napi_callback_info info);
napi_value es_metal_ceiling(napi_env env, napi_callback_info info);
napi_value es_kext_version(napi_env env, napi_callback_info info);
napi_value es_sysctl(napi_env env, napi_callback_info info);

/* The pressure watcher (pressure.c): registers with the platform's event source on its own thread. */
napi_value es_watch_pressure(napi_env env, napi_callback_info info);

/* Marshalling that does not touch the system (marshal.c), exported for tests with captured figures. */
napi_value es_marshal_vm_statistics(napi_env env, napi_callback_info info);
napi_value es_marshal_swap_usage(napi_env env, napi_callback_info info);
napi_value es_marshal_gpu_stats(napi_env env, napi_callback_info info);
napi_value es_marshal_procargs(napi_env env, napi_callback_info info);

#endif
