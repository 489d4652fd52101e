/* Structures to JS objects, with no system call: the same code runs on a Mac and in the tests anywhere. */
#include <stdio.h>
#include <string.h>

#include "es_marshal.h"

napi_value es_vm_statistics_to_js(napi_env env, const es_vm_statistics64 *vm, uint64_t page_size) {
  napi_value o;
  napi_create_object(env, &o);
  double p = (double)page_size;
  /* vm_stat prints free_count - speculative_count as "Pages free"; the sample follows vm_stat. */
  uint64_t free_pages = vm->free_count >= vm->speculative_count ? vm->free_count - vm->speculative_count : 0;
  es_set_num(env, o, "pageSize", p, 1);
  es_set_num(env, o, "free", (double)free_pages * p, 1);
  es_set_num(env, o, "active", (double)vm->active_count * p, 1);
  es_set_num(env, o, "inactive", (double)vm->inactive_count * p, 1);
  es_set_num(env, o, "speculative", (double)vm->speculative_count * p, 1);
  es_set_num(env, o, "throttled", (double)vm->throttled_count * p, 1);
  es_set_num(env, o, "wired", (double)vm->wire_count * p, 1);
  es_set_num(env, o, "purgeable", (double)vm->purgeable_count * p, 1);
  es_set_num(env, o, "fileBacked", (double)vm->external_page_count * p, 1);
  es_set_num(env, o, "anonymous", (double)vm->internal_page_count * p, 1);
  es_set_num(env, o, "storedInCompressor", (double)vm->total_uncompressed_pages_in_compressor * p, 1);
  es_set_num(env, o, "occupiedByCompressor", (double)vm->compressor_page_count * p, 1);
  es_set_num(env, o, "swapins", (double)vm->swapins, 1);
  es_set_num(env, o, "swapouts", (double)vm->swapouts, 1);
  return o;
}

napi_value es_swap_usage_to_js(napi_env env, const es_xsw_usage *swap) {
  napi_value o;
  napi_create_object(env, &o);
  es_set_num(env, o, "total", (double)swap->xsu_total, 1);
  es_set_num(env, o, "used", (double)swap->xsu_used, 1);
  es_set_num(env, o, "available", (double)swap->xsu_avail, 1);
  napi_value enc;
  napi_get_boolean(env, swap->xsu_encrypted != 0, &enc);
  es_set_val(env, o, "encrypted", enc);
  return o;
}

napi_value es_gpu_stats_to_js(napi_env env, const es_gpu_stats *gpu) {
  napi_value o;
  napi_create_object(env, &o);
  es_set_num(env, o, "inUseBytes", gpu->in_use, gpu->valid & ES_GPU_IN_USE);
  es_set_num(env, o, "allocBytes", gpu->alloc, gpu->valid & ES_GPU_ALLOC);
  es_set_num(env, o, "inUseDriverBytes", gpu->in_use_driver, gpu->valid & ES_GPU_IN_USE_DRIVER);
  es_set_num(env, o, "utilization", gpu->utilization, gpu->valid & ES_GPU_UTILIZATION);
  es_set_num(env, o, "recoveryCount", gpu->recovery_count, gpu->valid & ES_GPU_RECOVERY_COUNT);
  es_set_num(env, o, "lastRecoveryTime", gpu->last_recovery_time, gpu->valid & ES_GPU_LAST_RECOVERY);
  return o;
}

napi_value es_nul_list_to_js(napi_env env, const char *p, size_t len, uint32_t max_items) {
  napi_value list;
  napi_create_array(env, &list);
  if (len > ES_ARGV_BYTES) len = ES_ARGV_BYTES;
  uint32_t k = 0;
  for (size_t off = 0; off < len && k < max_items;) {
    size_t n = strnlen(p + off, len - off);
    napi_value s;
    napi_create_string_utf8(env, p + off, n, &s);
    napi_set_element(env, list, k++, s);
    off += n + 1;
  }
  return list;
}

napi_value es_procargs_to_js(napi_env env, const char *buf, size_t size) {
  int argc = 0;
  if (size < sizeof argc) return es_nul_list_to_js(env, buf, 0, 0);
  memcpy(&argc, buf, sizeof argc);
  const char *p = buf + sizeof argc, *end = buf + size;
  while (p < end && *p) p++; /* the exec path */
  while (p < end && !*p) p++; /* its padding */
  return es_nul_list_to_js(env, p, (size_t)(end - p), argc > 0 ? (uint32_t)argc : 0);
}

/* The test entry points: a Buffer holding the structure's bytes (little-endian, as on arm64 and x64). */
static int buffer_arg(napi_env env, napi_callback_info info, size_t want, void *out, double *extra) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_buffer = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    es_throw(env, "expected a Buffer holding the structure");
    return 0;
  }
  void *data;
  size_t len;
  napi_get_buffer_info(env, argv[0], &data, &len);
  if (len != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected a Buffer of %zu bytes, got %zu", want, len);
    es_throw(env, msg);
    return 0;
  }
  memcpy(out, data, want);
  if (extra) {
    *extra = 0;
    if (argc < 2 || napi_get_value_double(env, argv[1], extra) != napi_ok || !(*extra > 0)) {
      es_throw(env, "expected the page size as the second argument");
      return 0;
    }
  }
  return 1;
}

napi_value es_marshal_vm_statistics(napi_env env, napi_callback_info info) {
  es_vm_statistics64 vm;
  double page = 0;
  if (!buffer_arg(env, info, sizeof vm, &vm, &page)) return NULL;
  return es_vm_statistics_to_js(env, &vm, (uint64_t)page);
}

napi_value es_marshal_swap_usage(napi_env env, napi_callback_info info) {
  es_xsw_usage swap;
  if (!buffer_arg(env, info, sizeof swap, &swap, NULL)) return NULL;
  return es_swap_usage_to_js(env, &swap);
}

napi_value es_marshal_gpu_stats(napi_env env, napi_callback_info info) {
  es_gpu_stats gpu;
  if (!buffer_arg(env, info, sizeof gpu, &gpu, NULL)) return NULL;
  return es_gpu_stats_to_js(env, &gpu);
}

/* Any length: the bytes as KERN_PROCARGS2 would give them. */
napi_value es_marshal_procargs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_buffer = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer)
    return es_throw(env, "expected a Buffer holding what KERN_PROCARGS2 gives");
  void *data;
  size_t len;
  napi_get_buffer_info(env, argv[0], &data, &len);
  return es_procargs_to_js(env, data, len);
}

/* The sizes the tests build their buffers with (and darwin.c checks against the kernel's structures). */
_Static_assert(sizeof(es_vm_statistics64) == 160, "es_vm_statistics64 is 160 bytes");
_Static_assert(sizeof(es_xsw_usage) == 32, "es_xsw_usage is 32 bytes");
_Static_assert(sizeof(es_gpu_stats) == 56, "es_gpu_stats is 56 bytes");
