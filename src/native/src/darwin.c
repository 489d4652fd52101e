/*
 * macOS readers: no process spawned, no root needed.
 *   memory     sysctlbyname (hw.memsize, vm.swapusage, kern.memorystatus_*, iogpu.wired_limit_mb, the pageable
 *              counts) + host_statistics64(HOST_VM_INFO64)
 *   processes  proc_listallpids + proc_pidinfo(PROC_PIDTBSDINFO) + proc_pidpath + KERN_PROCARGS2
 *   stats      proc_pid_rusage(RUSAGE_INFO_V4): ri_phys_footprint and its lifetime maximum (Metal buffers are
 *              in it); proc_pidinfo(PROC_PIDTASKINFO) for threads
 *   gpu        IOKit IOAccelerator "PerformanceStatistics" (memory in use / allocated, the GPU recovery counters)
 *   ceiling    Metal's MTLCreateSystemDefaultDevice().recommendedMaxWorkingSetSize: the figure EXO wires
 *   kext       OSKextCopyLoadedKextInfo for com.apple.iokit.IOGPUFamily (no kmutil)
 * CoreFoundation and IOKit are linked; Metal is opened at run time so a machine without it still loads the
 * addon. When the framework headers are absent (a cross-compile check), the few calls used are declared here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libproc.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <objc/message.h>
#include <objc/runtime.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysctl.h>

#include "es_common.h"
#include "es_marshal.h"

#if __has_include(<CoreFoundation/CoreFoundation.h>) && __has_include(<IOKit/IOKitLib.h>)
#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOKitLib.h>
#include <IOKit/kext/KextManager.h>
#define ES_CF_MAIN_PORT kIOMainPortDefault
#else
typedef const void *CFTypeRef;
typedef const struct __CFString *CFStringRef;
typedef const struct __CFDictionary *CFDictionaryRef;
typedef struct __CFDictionary *CFMutableDictionaryRef;
typedef const struct __CFNumber *CFNumberRef;
typedef const struct __CFArray *CFArrayRef;
typedef const struct __CFAllocator *CFAllocatorRef;
typedef long CFIndex;
typedef unsigned long CFTypeID;
typedef unsigned char Boolean;
typedef uint32_t CFStringEncoding;
typedef CFIndex CFNumberType;
typedef struct {
  CFIndex version;
  const void *retain, *release, *copyDescription, *equal;
} CFArrayCallBacks;
typedef mach_port_t io_object_t;
typedef io_object_t io_iterator_t;
typedef io_object_t io_registry_entry_t;
typedef uint32_t IOOptionBits;
enum { kCFStringEncodingUTF8 = 0x08000100, kCFNumberSInt64Type = 4, kCFNumberDoubleType = 13 };
extern const CFArrayCallBacks kCFTypeArrayCallBacks;
extern CFStringRef CFStringCreateWithCString(CFAllocatorRef, const char *, CFStringEncoding);
extern CFArrayRef CFArrayCreate(CFAllocatorRef, const void **, CFIndex, const CFArrayCallBacks *);
extern const void *CFDictionaryGetValue(CFDictionaryRef, const void *);
extern CFTypeID CFGetTypeID(CFTypeRef);
extern CFTypeID CFNumberGetTypeID(void);
extern CFTypeID CFStringGetTypeID(void);
extern CFTypeID CFDictionaryGetTypeID(void);
extern Boolean CFNumberGetValue(CFNumberRef, CFNumberType, void *);
extern Boolean CFStringGetCString(CFStringRef, char *, CFIndex, CFStringEncoding);
extern void CFRelease(CFTypeRef);
extern CFMutableDictionaryRef IOServiceMatching(const char *);
extern kern_return_t IOServiceGetMatchingServices(mach_port_t, CFDictionaryRef, io_iterator_t *);
extern io_object_t IOIteratorNext(io_iterator_t);
extern CFTypeRef IORegistryEntryCreateCFProperty(io_registry_entry_t, CFStringRef, CFAllocatorRef, IOOptionBits);
extern kern_return_t IOObjectRelease(io_object_t);
extern CFDictionaryRef OSKextCopyLoadedKextInfo(CFArrayRef, CFArrayRef);
#define ES_CF_MAIN_PORT ((mach_port_t)0)
#endif

/* The mirrors in es_marshal.h must have the kernel's layout: checked here, where the real headers are. */
_Static_assert(offsetof(struct vm_statistics64, speculative_count) ==
                   offsetof(es_vm_statistics64, speculative_count),
               "vm_statistics64 layout");
_Static_assert(offsetof(struct vm_statistics64, swapped_count) == offsetof(es_vm_statistics64, swapped_count),
               "vm_statistics64 layout");
_Static_assert(sizeof(struct xsw_usage) == sizeof(es_xsw_usage), "xsw_usage layout");
_Static_assert(offsetof(struct xsw_usage, xsu_encrypted) == offsetof(es_xsw_usage, xsu_encrypted),
               "xsw_usage layout");

#define ES_PIDS_MAX 65536

static int sysctl_u64(const char *name, uint64_t *out) {
  uint64_t v = 0;
  size_t len = sizeof v;
  if (sysctlbyname(name, &v, &len, NULL, 0) != 0) return 0;
  if (len == sizeof(uint32_t)) v = (uint64_t) * (uint32_t *)&v; /* an int sysctl: the low word is set */
  *out = v;
  return 1;
}

static int sysctl_i32(const char *name, int32_t *out) {
  int32_t v = 0;
  size_t len = sizeof v;
  if (sysctlbyname(name, &v, &len, NULL, 0) != 0 || len != sizeof v) return 0;
  *out = v;
  return 1;
}

napi_value es_read_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_object(env, &out);
  uint64_t v = 0;
  int32_t i = 0;
  int ok = sysctl_u64("hw.memsize", &v);
  es_set_num(env, out, "memsize", (double)v, ok);
  ok = sysctl_u64("hw.memsize_usable", &v);
  es_set_num(env, out, "memsizeUsable", (double)v, ok);
  ok = sysctl_i32("kern.memorystatus_vm_pressure_level", &i);
  es_set_num(env, out, "pressureLevel", i, ok);
  ok = sysctl_i32("kern.memorystatus_level", &i);
  es_set_num(env, out, "memorystatusLevel", i, ok);
  ok = sysctl_i32("iogpu.wired_limit_mb", &i);
  es_set_num(env, out, "wiredLimitMb", i, ok);
  ok = sysctl_i32("vm.page_pageable_internal_count", &i);
  es_set_num(env, out, "pageableInternalPages", i, ok);
  ok = sysctl_i32("vm.page_pageable_external_count", &i);
  es_set_num(env, out, "pageableExternalPages", i, ok);

  struct xsw_usage swap;
  size_t len = sizeof swap;
  if (sysctlbyname("vm.swapusage", &swap, &len, NULL, 0) == 0 && len == sizeof swap)
    es_set_val(env, out, "swap", es_swap_usage_to_js(env, (const es_xsw_usage *)&swap));
  else
    es_set_val(env, out, "swap", es_null(env));

  vm_size_t page = 0;
  host_page_size(mach_host_self(), &page);
  vm_statistics64_data_t vm;
  mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
  if (page > 0 && host_statistics64(mach_host_self(), HOST_VM_INFO64, (host_info64_t)&vm, &count) == KERN_SUCCESS) {
    es_vm_statistics64 mirror;
    memset(&mirror, 0, sizeof mirror);
    size_t got = (size_t)count * sizeof(integer_t);
    memcpy(&mirror, &vm, got < sizeof mirror ? got : sizeof mirror);
    es_set_val(env, out, "vm", es_vm_statistics_to_js(env, &mirror, (uint64_t)page));
  } else {
    es_set_val(env, out, "vm", es_null(env));
  }
  return out;
}

/* KERN_PROCARGS2 into buf (the whole of it: the kernel does not give a part); another user's process gives
 * EINVAL/EPERM and an empty argv. Only its first ES_ARGV_BYTES become JS strings. */
static napi_value read_argv(napi_env env, int pid, char *buf, size_t cap) {
  int mib[3] = {CTL_KERN, KERN_PROCARGS2, pid};
  size_t size = cap;
  if (sysctl(mib, 3, buf, &size, NULL, 0) != 0) size = 0;
  return es_procargs_to_js(env, buf, size);
}

napi_value es_list_processes(napi_env env, napi_callback_info info) {
  (void)info;
  int argmax = 0;
  size_t len = sizeof argmax;
  int mib[2] = {CTL_KERN, KERN_ARGMAX};
  if (sysctl(mib, 2, &argmax, &len, NULL, 0) != 0 || argmax <= 0) argmax = 1024 * 1024;
  int n = proc_listallpids(NULL, 0);
  if (n <= 0) return es_throw(env, "proc_listallpids failed");
  if (n > ES_PIDS_MAX) n = ES_PIDS_MAX;
  size_t cap = (size_t)n + 64;
  pid_t *pids = calloc(cap, sizeof(pid_t));
  char *args = malloc((size_t)argmax);
  if (!pids || !args) {
    free(pids);
    free(args);
    return es_throw(env, "out of memory");
  }
  n = proc_listallpids(pids, (int)(cap * sizeof(pid_t)));
  napi_value list;
  napi_create_array(env, &list);
  uint32_t k = 0;
  for (int i = 0; i < n; i++) {
    struct proc_bsdinfo bsd;
    if (pids[i] <= 0 || proc_pidinfo(pids[i], PROC_PIDTBSDINFO, 0, &bsd, sizeof bsd) != (int)sizeof bsd) continue;
    napi_value e;
    napi_create_object(env, &e);
    es_set_num(env, e, "pid", pids[i], 1);
    es_set_num(env, e, "ppid", bsd.pbi_ppid, 1);
    /* The real uid: a setuid-root program another user starts (su waiting for a password) is theirs. */
    es_set_num(env, e, "uid", bsd.pbi_ruid, 1);
    es_set_str(env, e, "name", bsd.pbi_name[0] ? bsd.pbi_name : bsd.pbi_comm);
    es_set_num(env, e, "startTime", (double)bsd.pbi_start_tvsec * 1000.0 + (double)bsd.pbi_start_tvusec / 1000.0, 1);
    char path[PROC_PIDPATHINFO_MAXSIZE];
    es_set_str(env, e, "executable", proc_pidpath(pids[i], path, sizeof path) > 0 ? path : NULL);
    es_set_val(env, e, "argv", read_argv(env, pids[i], args, (size_t)argmax));
    napi_set_element(env, list, k++, e);
  }
  free(pids);
  free(args);
  return list;
}

napi_value es_read_process_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return es_throw(env, "readProcessStats expects an array of pids");
  uint32_t n;
  napi_get_array_length(env, argv[0], &n);
  if (n > ES_PIDS_MAX) return es_throw(env, "readProcessStats: too many pids");
  static mach_timebase_info_data_t tb;
  if (tb.denom == 0) mach_timebase_info(&tb);
  napi_value out;
  napi_create_array(env, &out);
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t pid;
    napi_get_element(env, argv[0], i, &v);
    if (napi_get_value_int32(env, v, &pid) != napi_ok || pid <= 0) continue;
    struct rusage_info_v4 ri;
    if (proc_pid_rusage(pid, RUSAGE_INFO_V4, (rusage_info_t *)&ri) != 0) continue;
    napi_value e;
    napi_create_object(env, &e);
    es_set_num(env, e, "pid", pid, 1);
    double ns = (double)(ri.ri_user_time + ri.ri_system_time) * tb.numer / (tb.denom ? tb.denom : 1);
    es_set_num(env, e, "cpuSeconds", ns / 1e9, 1);
    es_set_num(env, e, "rss", (double)ri.ri_resident_size, 1);
    es_set_num(env, e, "physFootprint", (double)ri.ri_phys_footprint, 1);
    es_set_num(env, e, "physFootprintMax", (double)ri.ri_lifetime_max_phys_footprint, 1);
    struct proc_taskinfo ti;
    int ok = proc_pidinfo(pid, PROC_PIDTASKINFO, 0, &ti, sizeof ti) == (int)sizeof ti;
    es_set_num(env, e, "threads", ok ? ti.pti_threadnum : 0, ok);
    napi_set_element(env, out, k++, e);
  }
  return out;
}

static CFStringRef cfstr(const char *s) { return CFStringCreateWithCString(NULL, s, kCFStringEncodingUTF8); }

static int dict_number(CFDictionaryRef d, const char *key, double *out) {
  CFStringRef k = cfstr(key);
  CFTypeRef v = k ? CFDictionaryGetValue(d, k) : NULL;
  if (k) CFRelease(k);
  if (!v || CFGetTypeID(v) != CFNumberGetTypeID()) return 0;
  int64_t i;
  if (CFNumberGetValue((CFNumberRef)v, kCFNumberSInt64Type, &i)) {
    *out = (double)i;
    return 1;
  }
  return CFNumberGetValue((CFNumberRef)v, kCFNumberDoubleType, out) ? 1 : 0;
}

/* The first IOAccelerator with PerformanceStatistics (Apple silicon has one). */
napi_value es_read_gpu(napi_env env, napi_callback_info info) {
  (void)info;
  io_iterator_t it = 0;
  if (IOServiceGetMatchingServices(ES_CF_MAIN_PORT, IOServiceMatching("IOAccelerator"), &it) != KERN_SUCCESS)
    return es_null(env);
  es_gpu_stats gpu;
  memset(&gpu, 0, sizeof gpu);
  int found = 0;
  CFStringRef key = cfstr("PerformanceStatistics");
  for (io_object_t svc; !found && (svc = IOIteratorNext(it)) != 0;) {
    CFTypeRef stats = IORegistryEntryCreateCFProperty(svc, key, NULL, 0);
    if (stats && CFGetTypeID(stats) == CFDictionaryGetTypeID()) {
      CFDictionaryRef d = (CFDictionaryRef)stats;
      if (dict_number(d, "In use system memory", &gpu.in_use)) gpu.valid |= ES_GPU_IN_USE;
      if (dict_number(d, "Alloc system memory", &gpu.alloc)) gpu.valid |= ES_GPU_ALLOC;
      if (dict_number(d, "In use system memory (driver)", &gpu.in_use_driver)) gpu.valid |= ES_GPU_IN_USE_DRIVER;
      if (dict_number(d, "Device Utilization %", &gpu.utilization)) gpu.valid |= ES_GPU_UTILIZATION;
      if (dict_number(d, "recoveryCount", &gpu.recovery_count)) gpu.valid |= ES_GPU_RECOVERY_COUNT;
      if (dict_number(d, "lastRecoveryTime", &gpu.last_recovery_time)) gpu.valid |= ES_GPU_LAST_RECOVERY;
      found = (gpu.valid & ES_GPU_IN_USE) != 0;
    }
    if (stats) CFRelease(stats);
    IOObjectRelease(svc);
  }
  if (key) CFRelease(key);
  IOObjectRelease(it);
  return found ? es_gpu_stats_to_js(env, &gpu) : es_null(env);
}

/* recommendedMaxWorkingSetSize of the system default Metal device, through the Objective-C runtime. */
napi_value es_metal_ceiling(napi_env env, napi_callback_info info) {
  (void)info;
  static void *device;
  static int tried;
  if (!tried) {
    tried = 1;
    void *metal = dlopen("/System/Library/Frameworks/Metal.framework/Metal", RTLD_LAZY | RTLD_LOCAL);
    void *(*create)(void) = metal ? (void *(*)(void))dlsym(metal, "MTLCreateSystemDefaultDevice") : NULL;
    device = create ? create() : NULL; /* retained for the process: the system default device is shared */
  }
  if (!device) return es_null(env);
  uint64_t (*send)(void *, SEL) = (uint64_t(*)(void *, SEL))objc_msgSend;
  uint64_t bytes = send(device, sel_registerName("recommendedMaxWorkingSetSize"));
  napi_value v;
  if (bytes == 0) return es_null(env);
  napi_create_double(env, (double)bytes, &v);
  return v;
}

napi_value es_kext_version(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char id[128] = "com.apple.iokit.IOGPUFamily";
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t len;
  if (argc >= 1 && napi_get_value_string_utf8(env, argv[0], id, sizeof id, &len) != napi_ok)
    return es_throw(env, "kextVersion expects a bundle identifier");
  CFStringRef bid = cfstr(id), vkey = cfstr("CFBundleVersion");
  const void *ids[1] = {bid}, *keys[1] = {vkey};
  CFArrayRef idArr = CFArrayCreate(NULL, ids, 1, &kCFTypeArrayCallBacks);
  CFArrayRef keyArr = CFArrayCreate(NULL, keys, 1, &kCFTypeArrayCallBacks);
  CFDictionaryRef all = OSKextCopyLoadedKextInfo(idArr, keyArr);
  napi_value result = es_null(env);
  if (all) {
    CFTypeRef entry = CFDictionaryGetValue(all, bid);
    if (entry && CFGetTypeID(entry) == CFDictionaryGetTypeID()) {
      CFTypeRef ver = CFDictionaryGetValue((CFDictionaryRef)entry, vkey);
      char buf[64];
      if (ver && CFGetTypeID(ver) == CFStringGetTypeID() &&
          CFStringGetCString((CFStringRef)ver, buf, sizeof buf, kCFStringEncodingUTF8))
        napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &result);
    }
    CFRelease(all);
  }
  CFRelease(idArr);
  CFRelease(keyArr);
  CFRelease(bid);
  CFRelease(vkey);
  return result;
}

/* sysctl(name, "string" | "number") for the identity (hw.model, machdep.cpu.brand_string, kern.osversion...). */
napi_value es_sysctl(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[128], kind[16] = "string";
  size_t len;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok)
    return es_throw(env, "sysctl expects a name");
  if (argc >= 2) napi_get_value_string_utf8(env, argv[1], kind, sizeof kind, &len);
  napi_value v;
  if (strcmp(kind, "number") == 0) {
    uint64_t n;
    if (!sysctl_u64(name, &n)) return es_null(env);
    napi_create_double(env, (double)n, &v);
    return v;
  }
  char buf[512];
  size_t size = sizeof buf;
  if (sysctlbyname(name, buf, &size, NULL, 0) != 0 || size == 0) return es_null(env);
  buf[size < sizeof buf ? size : sizeof buf - 1] = '\0';
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
  return v;
}
