/* Apache ZooKeeper's C client (libzookeeper_mt, async API) against a quorumlab server:
 * zoo_acreate / zoo_aset / zoo_aget / zoo_awget / zoo_awexists / zoo_amulti / zoo_adelete, and
 * the order of completions and watch events (reference §2.5: replies in request order, a
 * notification before the reply that follows the change it announces).
 *
 * Usage: zk_c_async_test HOST:PORT[,HOST:PORT...]
 * Exit status 0 when every check holds; the failures are printed otherwise. Waiting is done on
 * condition variables with a deadline, never by sleeping. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#define N_SEQ 200

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected = 0;
static int failures = 0;
static int completions = 0; /* completions seen, in order */
static int seq_next = 0;    /* the next sequential create completion expected */
static char seq_paths[N_SEQ][64];
static int events = 0;
static char event_log[16][128];

static void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  failures++;
}

static void note(const char* what) {
  pthread_mutex_lock(&mu);
  if (events < 16) snprintf(event_log[events], sizeof event_log[events], "%s", what);
  events++;
  completions++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* Waits until `*counter >= target` or 10 s pass. */
static int wait_for(int* counter, int target) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  int ok = 1;
  pthread_mutex_lock(&mu);
  while (*counter < target) {
    if (pthread_cond_timedwait(&cv, &mu, &deadline) == ETIMEDOUT) {
      ok = 0;
      break;
    }
  }
  pthread_mutex_unlock(&mu);
  return ok;
}

static void session_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh;
  (void)path;
  (void)ctx;
  if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) {
    pthread_mutex_lock(&mu);
    connected = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
}

static void node_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh;
  (void)ctx;
  char buf[128];
  snprintf(buf, sizeof buf, "event %d %d %s", type, state, path);
  note(buf);
}

static void seq_created(int rc, const char* value, const void* data) {
  long i = (long)data;
  pthread_mutex_lock(&mu);
  if (rc != ZOK) fail("create %ld: %s", i, zerror(rc));
  if (i != seq_next) fail("create completion %ld arrived when %d was expected", i, seq_next);
  if (rc == ZOK) snprintf(seq_paths[i], sizeof seq_paths[i], "%s", value);
  seq_next++;
  completions++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void string_done(int rc, const char* value, const void* data) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s rc=%d %s", (const char*)data, rc, rc == ZOK ? value : "");
  note(buf);
}

static void stat_done(int rc, const struct Stat* stat, const void* data) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s rc=%d v=%d", (const char*)data, rc, stat ? stat->version : -1);
  note(buf);
}

static void void_done(int rc, const void* data) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s rc=%d", (const char*)data, rc);
  note(buf);
}

static int deletes_ok = 0;
static void delete_done(int rc, const void* data) {
  (void)data;
  pthread_mutex_lock(&mu);
  if (rc == ZOK) deletes_ok++;
  completions++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static char got_data[64];
static void data_done(int rc, const char* value, int len, const struct Stat* stat,
                      const void* data) {
  (void)stat;
  char buf[128];
  if (rc == ZOK && len >= 0 && len < (int)sizeof got_data) {
    memcpy(got_data, value, (size_t)len);
    got_data[len] = 0;
  }
  snprintf(buf, sizeof buf, "%s rc=%d", (const char*)data, rc);
  note(buf);
}

static void expect_log(int from, const char* const* expected, int n) {
  for (int i = 0; i < n; i++) {
    if (from + i >= events || from + i >= 16) {
      fail("missing log entry %d: want '%s'", from + i, expected[i]);
      continue;
    }
    if (strcmp(event_log[from + i], expected[i]) != 0) {
      fail("log entry %d: got '%s', want '%s'", from + i, event_log[from + i], expected[i]);
    }
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s host:port[,host:port...]\n", argv[0]);
    return 2;
  }
  zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  zhandle_t* zh = zookeeper_init(argv[1], session_watcher, 10000, 0, 0, 0);
  if (!zh) {
    perror("zookeeper_init");
    return 1;
  }
  if (!wait_for(&connected, 1)) {
    fprintf(stderr, "FAIL: not connected within 10 s\n");
    return 1;
  }

  /* 1. Pipelined sequential creates: completions in request order, names increasing. */
  int rc = zoo_acreate(zh, "/ctest", "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, string_done, "root");
  if (rc != ZOK) fail("zoo_acreate: %s", zerror(rc));
  if (!wait_for(&completions, 1)) fail("no completion for /ctest");
  int base = completions;
  for (long i = 0; i < N_SEQ; i++) {
    rc = zoo_acreate(zh, "/ctest/n-", "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE, seq_created,
                     (const void*)i);
    if (rc != ZOK) fail("zoo_acreate seq %ld: %s", i, zerror(rc));
  }
  if (!wait_for(&completions, base + N_SEQ)) fail("sequential creates did not complete");
  for (int i = 1; i < N_SEQ; i++) {
    if (strcmp(seq_paths[i - 1], seq_paths[i]) >= 0) {
      fail("sequential names out of order: %s then %s", seq_paths[i - 1], seq_paths[i]);
    }
  }
  if (strcmp(seq_paths[0], "/ctest/n-0000000000") != 0) fail("first name %s", seq_paths[0]);

  /* 2. A data watch fires before the reply of the write that triggers it, and a read after
   *    the write sees the new value. */
  events = 0;
  base = completions;
  rc = zoo_awget(zh, "/ctest", node_watcher, NULL, data_done, "wget");
  if (rc != ZOK) fail("zoo_awget: %s", zerror(rc));
  rc = zoo_aset(zh, "/ctest", "new", 3, -1, stat_done, "set");
  if (rc != ZOK) fail("zoo_aset: %s", zerror(rc));
  rc = zoo_aget(zh, "/ctest", 0, data_done, "get");
  if (rc != ZOK) fail("zoo_aget: %s", zerror(rc));
  if (!wait_for(&completions, base + 4)) fail("watch scenario did not complete");
  {
    const char* want[] = {"wget rc=0", "event 3 3 /ctest", "set rc=0 v=1", "get rc=0"};
    expect_log(0, want, 4);
  }
  if (strcmp(got_data, "new") != 0) fail("get after set returned '%s'", got_data);

  /* 3. exists on a missing node arms a watch (§1.11); create fires NodeCreated first. */
  events = 0;
  base = completions;
  rc = zoo_awexists(zh, "/ctest/later", node_watcher, NULL, stat_done, "exists");
  if (rc != ZOK) fail("zoo_awexists: %s", zerror(rc));
  rc = zoo_acreate(zh, "/ctest/later", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, string_done,
                   "create");
  if (rc != ZOK) fail("zoo_acreate: %s", zerror(rc));
  if (!wait_for(&completions, base + 3)) fail("exists scenario did not complete");
  {
    const char* want[] = {"exists rc=-101 v=-1", "event 1 3 /ctest/later",
                          "create rc=0 /ctest/later"};
    expect_log(0, want, 3);
  }

  /* 4. multi: all or nothing, and the error of the failing op. */
  events = 0;
  base = completions;
  zoo_op_t ops[2];
  zoo_op_result_t results[2];
  char created[64];
  zoo_create_op_init(&ops[0], "/ctest/m", "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
  zoo_delete_op_init(&ops[1], "/ctest/missing", -1);
  rc = zoo_amulti(zh, 2, ops, results, void_done, "multi");
  if (rc != ZOK) fail("zoo_amulti: %s", zerror(rc));
  rc = zoo_aexists(zh, "/ctest/m", 0, stat_done, "exists-m");
  if (rc != ZOK) fail("zoo_aexists: %s", zerror(rc));
  if (!wait_for(&completions, base + 2)) fail("multi scenario did not complete");
  {
    const char* want[] = {"multi rc=-101", "exists-m rc=-101 v=-1"};
    expect_log(0, want, 2);
  }
  if (results[0].err != ZRUNTIMEINCONSISTENCY && results[0].err != ZOK) {
    fail("multi op 0 err %d", results[0].err);
  }
  if (results[1].err != ZNONODE) fail("multi op 1 err %d", results[1].err);

  /* 5. Clean up with pipelined deletes, then getChildren sees none left. */
  events = 0;
  base = completions;
  for (int i = 0; i < N_SEQ; i++)
    zoo_adelete(zh, seq_paths[i], -1, delete_done, NULL);
  zoo_adelete(zh, "/ctest/later", -1, delete_done, NULL);
  rc = zoo_adelete(zh, "/ctest", -1, void_done, "delete-root");
  if (rc != ZOK) fail("zoo_adelete: %s", zerror(rc));
  if (!wait_for(&completions, base + N_SEQ + 2)) fail("deletes did not complete");
  if (deletes_ok != N_SEQ + 1) fail("%d of %d deletes succeeded", deletes_ok, N_SEQ + 1);
  {
    const char* want[] = {"delete-root rc=0"};
    expect_log(0, want, 1);
  }

  zookeeper_close(zh);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("zk_c_async_test: all checks passed\n");
  return 0;
}
