/*
 * The darwin structures the readers copy out of the kernel, mirrored field for field so that turning them
 * into JS objects can be tested on any platform with figures captured on a Mac. darwin.c asserts at compile
 * time that each mirror has the real structure's layout.
 */
#ifndef ES_MARSHAL_H
#define ES_MARSHAL_H

#include "es_common.h"

/* struct vm_statistics64 (mach/vm_statistics.h) up to swapped_count: what HOST_VM_INFO64 has filled since
 * macOS 10.9. Newer SDKs append tag-storage counters, which are not read. */
typedef struct {
  uint32_t free_count;
  uint32_t active_count;
  uint32_t inactive_count;
  uint32_t wire_count;
  uint64_t zero_fill_count;
  uint64_t reactivations;
  uint64_t pageins;
  uint64_t pageouts;
  uint64_t faults;
  uint64_t cow_faults;
  uint64_t lookups;
  uint64_t hits;
  uint64_t purges;
  uint32_t purgeable_count;
  uint32_t speculative_count;
  uint64_t decompressions;
  uint64_t compressions;
  uint64_t swapins;
  uint64_t swapouts;
  uint32_t compressor_page_count;
  uint32_t throttled_count;
  uint32_t external_page_count;
  uint32_t internal_page_count;
  uint64_t total_uncompressed_pages_in_compressor;
  uint64_t swapped_count;
} es_vm_statistics64;

/* struct xsw_usage (sys/sysctl.h), the value of vm.swapusage. */
typedef struct {
  uint64_t xsu_total;
  uint64_t xsu_avail;
  uint64_t xsu_used;
  uint32_t xsu_pagesize;
  int32_t xsu_encrypted;
} es_xsw_usage;

/* What the IOAccelerator's PerformanceStatistics dictionary gives; a field is valid when its bit is set. */
enum {
  ES_GPU_IN_USE = 1 << 0,
  ES_GPU_ALLOC = 1 << 1,
  ES_GPU_IN_USE_DRIVER = 1 << 2,
  ES_GPU_UTILIZATION = 1 << 3,
  ES_GPU_RECOVERY_COUNT = 1 << 4,
  ES_GPU_LAST_RECOVERY = 1 << 5,
};
typedef struct {
  uint32_t valid;
  uint32_t reserved;
  double in_use;        /* "In use system memory" */
  double alloc;         /* "Alloc system memory" */
  double in_use_driver; /* "In use system memory (driver)" */
  double utilization;   /* "Device Utilization %" */
  double recovery_count;      /* "recoveryCount" */
  double last_recovery_time;  /* "lastRecoveryTime" */
} es_gpu_stats;

/* The page counts as `vm_stat` prints them (its "Pages free" excludes speculative pages), in bytes. */
napi_value es_vm_statistics_to_js(napi_env env, const es_vm_statistics64 *vm, uint64_t page_size);
napi_value es_swap_usage_to_js(napi_env env, const es_xsw_usage *swap);
napi_value es_gpu_stats_to_js(napi_env env, const es_gpu_stats *gpu);
/* NUL-separated strings (a /proc/<pid>/cmdline) as an array of at most `max_items`, reading no more than
 * ES_ARGV_BYTES of `len`: the string that crosses that mark is cut there. */
napi_value es_nul_list_to_js(napi_env env, const char *p, size_t len, uint32_t max_items);
/* What KERN_PROCARGS2 gives (an int argc, the exec path, NUL padding, then argc NUL-terminated arguments and
 * the environment) as the argv array, its first ES_ARGV_BYTES only; an empty array when it does not hold one. */
napi_value es_procargs_to_js(napi_env env, const char *buf, size_t size);

#endif
