/*
 * Linux readers over sysinfo(2) and procfs, in the shape the darwin readers give: the daemon runs for real on
 * Linux, so the addon's build, loading, threads, events and errors are exercised here by CI.
 * No allocation grows with anything but the process count; every file read is bounded.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "es_common.h"
#include "es_marshal.h"

#define ES_PROC "/proc"
#define ES_FILE_MAX (64 * 1024)
#define ES_CMDLINE_MAX (32 * 1024)
#define ES_PIDS_MAX 65536
#define ES_CLOCK_TICKS 100.0 /* USER_HZ, fixed by the kernel ABI for /proc */

/* Reads at most cap-1 bytes of a file into buf (NUL-terminated); returns the length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return -1;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* `Key:   123 kB` lines → an object of bytes (kB values) or plain numbers. */
static napi_value key_values(napi_env env, char *text) {
  napi_value o;
  napi_create_object(env, &o);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *colon = strchr(line, ':');
    if (!colon || colon == line || colon - line > 63) continue;
    char key[64];
    memcpy(key, line, (size_t)(colon - line));
    key[colon - line] = '\0';
    char *p = colon + 1;
    while (*p == ' ' || *p == '\t') p++;
    if (!isdigit((unsigned char)*p)) continue;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    while (*end == ' ') end++;
    int kb = strncmp(end, "kB", 2) == 0;
    if (*end && !kb) continue;
    es_set_num(env, o, key, kb ? (double)v * 1024.0 : (double)v, 1);
  }
  return o;
}

/* One PSI line (`some avg10=0.00 avg60=0.00 avg300=0.00 total=0`) → {avg10, avg60, avg300, totalMicros}. */
static napi_value psi_line(napi_env env, const char *text, const char *kind) {
  char prefix[8];
  snprintf(prefix, sizeof prefix, "%s ", kind);
  const char *p = text;
  while (p && *p) {
    if (strncmp(p, prefix, strlen(prefix)) == 0) {
      double a10, a60, a300;
      unsigned long long total;
      if (sscanf(p + strlen(prefix), "avg10=%lf avg60=%lf avg300=%lf total=%llu", &a10, &a60, &a300, &total) == 4) {
        napi_value o;
        napi_create_object(env, &o);
        es_set_num(env, o, "avg10", a10, 1);
        es_set_num(env, o, "avg60", a60, 1);
        es_set_num(env, o, "avg300", a300, 1);
        es_set_num(env, o, "totalMicros", (double)total, 1);
        return o;
      }
      return es_null(env);
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  return es_null(env);
}

napi_value es_read_memory(napi_env env, napi_callback_info info) {
  (void)info;
  char *buf = malloc(ES_FILE_MAX);
  if (!buf) return es_throw(env, "out of memory");
  napi_value out;
  napi_create_object(env, &out);
  struct sysinfo si;
  if (sysinfo(&si) == 0) {
    napi_value s;
    napi_create_object(env, &s);
    double unit = si.mem_unit ? (double)si.mem_unit : 1.0;
    es_set_num(env, s, "totalRam", (double)si.totalram * unit, 1);
    es_set_num(env, s, "freeRam", (double)si.freeram * unit, 1);
    es_set_num(env, s, "bufferRam", (double)si.bufferram * unit, 1);
    es_set_num(env, s, "sharedRam", (double)si.sharedram * unit, 1);
    es_set_num(env, s, "totalSwap", (double)si.totalswap * unit, 1);
    es_set_num(env, s, "freeSwap", (double)si.freeswap * unit, 1);
    es_set_num(env, s, "uptimeSeconds", (double)si.uptime, 1);
    es_set_num(env, s, "processes", (double)si.procs, 1);
    es_set_val(env, out, "sysinfo", s);
  } else {
    es_set_val(env, out, "sysinfo", es_null(env));
  }
  if (read_small(ES_PROC "/meminfo", buf, ES_FILE_MAX) >= 0)
    es_set_val(env, out, "meminfo", key_values(env, buf));
  else
    es_set_val(env, out, "meminfo", es_null(env));
  if (read_small(ES_PROC "/pressure/memory", buf, ES_FILE_MAX) >= 0) {
    napi_value psi;
    napi_create_object(env, &psi);
    es_set_val(env, psi, "some", psi_line(env, buf, "some"));
    es_set_val(env, psi, "full", psi_line(env, buf, "full"));
    es_set_val(env, out, "psi", psi);
  } else {
    es_set_val(env, out, "psi", es_null(env));
  }
  free(buf);
  return out;
}

typedef struct {
  int ppid;
  char comm[64];
  unsigned long long utime, stime, starttime;
  long threads, rss_pages;
} proc_stat;

/* /proc/<pid>/stat: comm is between the first '(' and the last ')', and may hold spaces and parentheses. */
static int read_stat(int pid, proc_stat *st, char *buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, ES_PROC "/%d/stat", pid);
  if (read_small(path, buf, cap) <= 0) return 0;
  char *open_p = strchr(buf, '(');
  char *close_p = strrchr(buf, ')');
  if (!open_p || !close_p || close_p < open_p) return 0;
  size_t n = (size_t)(close_p - open_p - 1);
  if (n >= sizeof st->comm) n = sizeof st->comm - 1;
  memcpy(st->comm, open_p + 1, n);
  st->comm[n] = '\0';
  /* Fields from 3 (state) on, as numbered in proc(5). */
  char state;
  unsigned long long skip;
  int ppid;
  long threads, rss;
  unsigned long long utime, stime, start;
  /* state ppid | pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt | utime stime |
   * cutime cstime priority nice | num_threads | itrealvalue | starttime | vsize | rss */
  int got = sscanf(close_p + 2,
                   "%c %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %ld %llu %llu %llu %ld",
                   &state, &ppid, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &utime, &stime,
                   &skip, &skip, &skip, &skip, &threads, &skip, &start, &skip, &rss);
  if (got < 20) return 0;
  st->ppid = ppid;
  st->utime = utime;
  st->stime = stime;
  st->threads = threads;
  st->starttime = start;
  st->rss_pages = got >= 22 ? rss : -1;
  return 1;
}

static double boot_time_ms(char *buf, size_t cap) {
  if (read_small(ES_PROC "/stat", buf, cap) < 0) return -1;
  const char *p = strstr(buf, "\nbtime ");
  if (!p) return -1;
  return strtod(p + 7, NULL) * 1000.0;
}

napi_value es_list_processes(napi_env env, napi_callback_info info) {
  (void)info;
  char *buf = malloc(ES_CMDLINE_MAX);
  if (!buf) return es_throw(env, "out of memory");
  double boot = boot_time_ms(buf, ES_CMDLINE_MAX);
  DIR *dir = opendir(ES_PROC);
  if (!dir) {
    free(buf);
    char msg[128];
    snprintf(msg, sizeof msg, "cannot list " ES_PROC ": %s", strerror(errno));
    return es_throw(env, msg);
  }
  napi_value list;
  napi_create_array(env, &list);
  uint32_t i = 0;
  struct dirent *d;
  while ((d = readdir(dir)) != NULL && i < ES_PIDS_MAX) {
    if (!isdigit((unsigned char)d->d_name[0])) continue;
    int pid = atoi(d->d_name);
    proc_stat st;
    if (!read_stat(pid, &st, buf, ES_CMDLINE_MAX)) continue; /* gone since readdir */
    napi_value e;
    napi_create_object(env, &e);
    es_set_num(env, e, "pid", pid, 1);
    es_set_num(env, e, "ppid", st.ppid, 1);
    es_set_str(env, e, "name", st.comm);
    es_set_num(env, e, "startTime", boot + (double)st.starttime * 1000.0 / ES_CLOCK_TICKS, boot >= 0);
    es_set_num(env, e, "startTicks", (double)st.starttime, 1);
    char path[64];
    snprintf(path, sizeof path, ES_PROC "/%d/exe", pid);
    char exe[4096];
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n > 0) {
      exe[n] = '\0';
      es_set_str(env, e, "executable", exe);
    } else {
      es_set_str(env, e, "executable", NULL);
    }
    /* The real uid (Uid: real effective saved fs), as the procfs reader: a setuid program is its starter's. */
    snprintf(path, sizeof path, ES_PROC "/%d/status", pid);
    const char *uid_line = read_small(path, buf, ES_CMDLINE_MAX) > 0 ? strstr(buf, "\nUid:") : NULL;
    char *uid_end = NULL;
    double uid = uid_line ? strtod(uid_line + 5, &uid_end) : 0;
    es_set_num(env, e, "uid", uid, uid_line != NULL && uid_end != uid_line + 5);
    snprintf(path, sizeof path, ES_PROC "/%d/cmdline", pid);
    ssize_t len = read_small(path, buf, ES_ARGV_BYTES + 1);
    napi_value argv = es_nul_list_to_js(env, buf, len > 0 ? (size_t)len : 0, UINT32_MAX);
    es_set_val(env, e, "argv", argv);
    napi_set_element(env, list, i++, e);
  }
  closedir(dir);
  free(buf);
  return list;
}

/* readProcessStats([pid...]) → [{pid, startTicks, cpuSeconds, rss, physFootprint, physFootprintMax, threads}] */
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
  char *buf = malloc(ES_FILE_MAX);
  if (!buf) return es_throw(env, "out of memory");
  napi_value out;
  napi_create_array(env, &out);
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t pid;
    napi_get_element(env, argv[0], i, &v);
    if (napi_get_value_int32(env, v, &pid) != napi_ok || pid <= 0) continue;
    proc_stat st;
    if (!read_stat(pid, &st, buf, ES_FILE_MAX)) continue;
    char path[64];
    snprintf(path, sizeof path, ES_PROC "/%d/status", pid);
    napi_value e;
    napi_create_object(env, &e);
    es_set_num(env, e, "pid", pid, 1);
    es_set_num(env, e, "startTicks", (double)st.starttime, 1);
    es_set_num(env, e, "cpuSeconds", (double)(st.utime + st.stime) / ES_CLOCK_TICKS, 1);
    double rss = -1, anon = -1, swap = 0, hwm = -1, threads = (double)st.threads;
    if (read_small(path, buf, ES_FILE_MAX) > 0) {
      char *save = NULL;
      for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long long kb;
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) rss = (double)kb * 1024;
        else if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) anon = (double)kb * 1024;
        else if (sscanf(line, "VmSwap: %llu kB", &kb) == 1) swap = (double)kb * 1024;
        else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) hwm = (double)kb * 1024;
        else if (sscanf(line, "Threads: %llu", &kb) == 1) threads = (double)kb;
      }
    }
    if (rss < 0 && st.rss_pages >= 0) rss = (double)st.rss_pages * (double)sysconf(_SC_PAGESIZE);
    es_set_num(env, e, "rss", rss, rss >= 0);
    /* Linux's analogue of phys_footprint: anonymous resident memory plus what is swapped out. */
    es_set_num(env, e, "physFootprint", anon + swap, anon >= 0);
    /* VmHWM is the peak resident set, the nearest to ri_lifetime_max_phys_footprint. */
    es_set_num(env, e, "physFootprintMax", hwm, hwm >= 0);
    es_set_num(env, e, "threads", threads, threads >= 0);
    napi_set_element(env, out, k++, e);
  }
  free(buf);
  return out;
}

/* No Apple GPU, Metal, kext or sysctl-by-name here: null, and the JS layer says why. */
napi_value es_read_gpu(napi_env env, napi_callback_info info) {
  (void)info;
  return es_null(env);
}
napi_value es_metal_ceiling(napi_env env, napi_callback_info info) {
  (void)info;
  return es_null(env);
}
napi_value es_kext_version(napi_env env, napi_callback_info info) {
  (void)info;
  return es_null(env);
}
napi_value es_sysctl(napi_env env, napi_callback_info info) {
  (void)info;
  return es_null(env);
}
