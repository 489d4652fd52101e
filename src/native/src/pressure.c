/*
 * watchPressure(callback, options) → { close() }
 * A memory-pressure change is delivered at once, from the platform's own event source, on a thread of the
 * addon's: Linux registers a PSI trigger on /proc/pressure/memory and polls it; macOS uses a
 * DISPATCH_SOURCE_TYPE_MEMORYPRESSURE source. Events reach JS through a thread-safe function whose queue is
 * bounded (a burst beyond it is dropped and counted, never queued without end). `{ fd }` instead watches a
 * readable descriptor (a pipe in the tests standing in for the PSI file) through the same path.
 * close() stops the thread and releases the trigger; the env's cleanup hook does it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es_common.h"

#ifdef __APPLE__
#include <dispatch/dispatch.h>
#endif

#define ES_QUEUE_MAX 16

typedef struct {
  char kind[8]; /* "psi", "fd", "darwin", "error" */
  int level;    /* darwin: 1 normal, 2 warn, 4 critical */
  char data[256];
} es_event;

typedef struct watcher {
  napi_env env;
  napi_threadsafe_function tsfn;
  int source_fd;  /* PSI trigger fd or the fd under test; -1 on darwin */
  int owns_fd;    /* the PSI fd is ours to close */
  int stop_pipe[2];
  int running;
  int closed;
  int hook_registered;
  pthread_t thread;
  unsigned long dropped;
#ifdef __APPLE__
  dispatch_source_t source;
  dispatch_queue_t queue;
#endif
} watcher;

static void deliver(watcher *w, const char *kind, int level, const char *data) {
  es_event *ev = calloc(1, sizeof *ev);
  if (!ev) return;
  snprintf(ev->kind, sizeof ev->kind, "%s", kind);
  ev->level = level;
  if (data) snprintf(ev->data, sizeof ev->data, "%s", data);
  if (napi_call_threadsafe_function(w->tsfn, ev, napi_tsfn_nonblocking) != napi_ok) {
    w->dropped++;
    free(ev);
  }
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  watcher *w = context;
  es_event *ev = data;
  if (env && js_cb) {
    napi_value obj, undefined;
    napi_create_object(env, &obj);
    es_set_str(env, obj, "kind", ev->kind);
    es_set_num(env, obj, "level", ev->level, ev->level > 0);
    es_set_str(env, obj, "data", ev->data[0] ? ev->data : NULL);
    es_set_num(env, obj, "dropped", (double)w->dropped, 1);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, js_cb, 1, &obj, NULL);
  }
  free(ev);
}

static void *poll_thread(void *arg) {
  watcher *w = arg;
  struct pollfd fds[2] = {{w->source_fd, (short)(w->owns_fd ? POLLPRI : (POLLIN | POLLPRI)), 0},
                          {w->stop_pipe[0], POLLIN, 0}};
  for (;;) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      deliver(w, "error", 0, strerror(errno));
      break;
    }
    if (fds[1].revents) break; /* close() */
    short ev = fds[0].revents;
    if (ev & (POLLERR | POLLNVAL)) {
      deliver(w, "error", 0, w->owns_fd ? "the PSI trigger was removed (POLLERR)" : "the watched descriptor failed");
      break;
    }
    if (w->owns_fd && (ev & POLLPRI)) {
      deliver(w, "psi", 0, NULL);
    } else if (ev & (POLLIN | POLLPRI)) {
      char buf[256];
      ssize_t r = read(w->source_fd, buf, sizeof buf - 1);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        deliver(w, "error", 0, r == 0 ? "the watched descriptor reached its end" : strerror(errno));
        break;
      }
      buf[r] = '\0';
      deliver(w, "fd", 0, buf);
    } else if (ev & POLLHUP) {
      deliver(w, "error", 0, "the watched descriptor reached its end");
      break;
    }
  }
  return NULL;
}

#ifdef __APPLE__
static void darwin_pressure(void *ctx) {
  watcher *w = ctx;
  unsigned long flags = dispatch_source_get_data(w->source);
  int level = (flags & DISPATCH_MEMORYPRESSURE_CRITICAL) ? 4 : (flags & DISPATCH_MEMORYPRESSURE_WARN) ? 2 : 1;
  deliver(w, "darwin", level, NULL);
}
#endif

static void stop_watcher(watcher *w) {
  if (w->closed) return;
  w->closed = 1;
#ifdef __APPLE__
  if (w->source) {
    dispatch_source_cancel(w->source);
    dispatch_release(w->source);
    w->source = NULL;
  }
#endif
  if (w->running) {
    ssize_t ignored = write(w->stop_pipe[1], "x", 1);
    (void)ignored;
    pthread_join(w->thread, NULL);
    w->running = 0;
  }
  if (w->stop_pipe[0] >= 0) close(w->stop_pipe[0]);
  if (w->stop_pipe[1] >= 0) close(w->stop_pipe[1]);
  w->stop_pipe[0] = w->stop_pipe[1] = -1;
  if (w->owns_fd && w->source_fd >= 0) close(w->source_fd);
  w->source_fd = -1;
  napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
}

/* At env teardown (process exit, a worker or a renderer reload): stop; the handle's finaliser frees. */
static void cleanup_hook(void *arg) {
  watcher *w = arg;
  w->hook_registered = 0;
  stop_watcher(w);
}

/* The handle owns the watcher: collected (or torn down) → stopped and freed, exactly once. */
static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watcher *w = data;
  if (w->hook_registered) napi_remove_env_cleanup_hook(w->env, cleanup_hook, w);
  w->hook_registered = 0;
  stop_watcher(w);
  free(w);
}

static napi_value close_cb(napi_env env, napi_callback_info info) {
  void *data;
  napi_value self;
  napi_get_cb_info(env, info, NULL, NULL, &self, &data);
  watcher *w = data;
  napi_value result;
  napi_get_boolean(env, !w->closed, &result);
  stop_watcher(w);
  return result;
}

static int get_int_prop(napi_env env, napi_value obj, const char *name, int64_t *out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_get_named_property(env, obj, name, &v);
  return napi_get_value_int64(env, v, out) == napi_ok;
}

napi_value es_watch_pressure(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype t = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function)
    return es_throw(env, "watchPressure expects a callback");
  int64_t fd = -1, stall_us = 150000, window_us = 2000000;
  char path[256] = "/proc/pressure/memory";
  if (argc >= 2) {
    napi_typeof(env, argv[1], &t);
    if (t == napi_object) {
      get_int_prop(env, argv[1], "fd", &fd);
      get_int_prop(env, argv[1], "stallMicros", &stall_us);
      get_int_prop(env, argv[1], "windowMicros", &window_us);
      bool has = false;
      if (napi_has_named_property(env, argv[1], "psiPath", &has) == napi_ok && has) {
        napi_value v;
        size_t len;
        napi_get_named_property(env, argv[1], "psiPath", &v);
        if (napi_get_value_string_utf8(env, v, path, sizeof path, &len) != napi_ok)
          return es_throw(env, "watchPressure: psiPath must be a string");
      }
    }
  }
  /* The kernel takes windows of 500 ms..10 s; unprivileged triggers need a multiple of 2 s. */
  if (window_us < 500000 || window_us > 10000000 || stall_us <= 0 || stall_us > window_us)
    return es_throw(env, "watchPressure: stallMicros must be in (0, windowMicros] and windowMicros in [500000, 10000000]");

  watcher *w = calloc(1, sizeof *w);
  if (!w) return es_throw(env, "out of memory");
  w->env = env;
  w->source_fd = -1;
  w->stop_pipe[0] = w->stop_pipe[1] = -1;
  char err[320] = "";

#ifdef __APPLE__
  if (fd < 0) {
    w->queue = dispatch_get_global_queue(QOS_CLASS_UTILITY, 0);
    w->source = dispatch_source_create(DISPATCH_SOURCE_TYPE_MEMORYPRESSURE, 0,
                                       DISPATCH_MEMORYPRESSURE_NORMAL | DISPATCH_MEMORYPRESSURE_WARN |
                                           DISPATCH_MEMORYPRESSURE_CRITICAL,
                                       w->queue);
    if (!w->source) snprintf(err, sizeof err, "dispatch_source_create(MEMORYPRESSURE) failed");
  }
#else
  if (fd < 0) {
    int psi = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (psi < 0) {
      snprintf(err, sizeof err, "cannot open %s for a PSI trigger: %s", path, strerror(errno));
    } else {
      char trig[64];
      int len = snprintf(trig, sizeof trig, "some %lld %lld", (long long)stall_us, (long long)window_us);
      if (write(psi, trig, (size_t)len + 1) < 0) {
        snprintf(err, sizeof err, "the kernel refused the PSI trigger \"%s\" on %s: %s", trig, path, strerror(errno));
        close(psi);
      } else {
        w->source_fd = psi;
        w->owns_fd = 1;
      }
    }
  }
#endif
  if (fd >= 0) w->source_fd = (int)fd;
  if (!err[0] && pipe(w->stop_pipe) != 0) snprintf(err, sizeof err, "pipe: %s", strerror(errno));
  if (err[0]) {
    if (w->owns_fd && w->source_fd >= 0) close(w->source_fd);
    if (w->stop_pipe[0] >= 0) close(w->stop_pipe[0]);
    if (w->stop_pipe[1] >= 0) close(w->stop_pipe[1]);
    free(w);
    return es_throw(env, err);
  }

  napi_value name;
  napi_create_string_utf8(env, "exo-sentinel pressure", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, ES_QUEUE_MAX, 1, NULL, NULL, w, call_js,
                                      &w->tsfn) != napi_ok) {
    if (w->owns_fd) close(w->source_fd);
    close(w->stop_pipe[0]);
    close(w->stop_pipe[1]);
    free(w);
    return es_throw(env, "cannot create the thread-safe function");
  }
  /* The watcher never keeps the process alive by itself. */
  napi_unref_threadsafe_function(env, w->tsfn);
  napi_add_env_cleanup_hook(env, cleanup_hook, w);
  w->hook_registered = 1;

#ifdef __APPLE__
  if (w->source) {
    dispatch_set_context(w->source, w);
    dispatch_source_set_event_handler_f(w->source, darwin_pressure);
    dispatch_resume(w->source);
  }
#endif
  napi_value handle, close_fn;
  napi_create_object(env, &handle);
  if (napi_add_finalizer(env, handle, w, finalize_handle, NULL, NULL) != napi_ok) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, w);
    stop_watcher(w);
    free(w);
    return es_throw(env, "cannot attach the watcher to its handle");
  }
  if (w->source_fd >= 0) {
    if (pthread_create(&w->thread, NULL, poll_thread, w) != 0) {
      stop_watcher(w);
      return es_throw(env, "cannot start the pressure thread");
    }
    w->running = 1;
  }

  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_cb, w, &close_fn);
  es_set_val(env, handle, "close", close_fn);
#ifdef __APPLE__
  es_set_str(env, handle, "source", fd >= 0 ? "fd" : "dispatch");
#else
  es_set_str(env, handle, "source", fd >= 0 ? "fd" : "psi");
#endif
  return handle;
}
