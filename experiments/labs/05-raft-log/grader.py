"""Lab 5's autograder (Raft, part B: log replication and persistence), in the spirit of
6.5840's 3B and 3C tests, then the real service.

The student's raft.cpp becomes the broadcast plugin `lab-raft` (quorumlab.labraft). In the
simulator (`qlab sim`) simulated ZooKeeper clients write and read while faults fall; the
simulator checks that every replica applies the same txns in the same order, that no
acknowledged write is lost and that reads are consistent, then heals everything and requires
progress and convergence. The grader adds checks read from the trace (one vote per term, one
leader per term, the fast backup's round trips). Last, a real 3-node cluster runs the plugin
and a kazoo client writes through a leader crash.
"""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

from quorumlab import labraft
from quorumlab.lab import Context, Failed, test

MAX_REJECTIONS = 12  # rejected AppendEntries of one follower in one leader's term
MAX_MESSAGES_PER_OP = 10


def checked(ctx: Context, args: List[str], name: str, seeds: int = 1,
            offset: int = 0) -> List[labraft.SimRun]:
    """Runs `seeds` simulations; each must pass the trace's election checks and the
    simulator's own checks (pointing the replay at the failure)."""
    runs = []
    for k in range(seeds):
        run = labraft.sim(ctx, args, name, offset + k)
        labraft.require_trace_safe(ctx, run)
        labraft.require_sim_ok(ctx, run, "replication")
        r = run.report
        ctx.log(f"  {r.get('ops', 0)} ops, {r.get('peer_messages_per_op', 0):.1f} peer "
                f"messages per op")
        runs.append(run)
    return runs


@test("raft.cpp compiles into the lab-raft plugin",
      hint="the lab's CMake project is experiments/labs/common/labraft (the first compiler "
           "errors are above)",
      part="B")
def compiles(ctx: Context) -> None:
    labraft.plugin_for(ctx)
    for w in labraft.warnings_of(ctx.work)[:5]:
        ctx.log(f"compiler: {w}")


@test("agreement: clients' writes commit, in one order on every server (no faults)",
      hint="the leader appends each proposed txn (append_new_entry) and sends AppendEntries; a "
           "follower appends after the consistency check and acknowledges its match index; "
           "the leader commits what a majority holds and tells the followers (leader_commit)",
      part="B")
def agreement(ctx: Context) -> None:
    run = checked(ctx, ["--faults", "none", "--duration-ms", "4000"], "agree")[0]
    if run.report.get("ops", 0) < 50:
        ctx.replay = labraft.replay(run, "replication")
        raise Failed(f"only {run.report.get('ops', 0)} client operations completed in 4 s")


@test("at most 10 peer messages per client operation",
      hint="send new entries with the next heartbeat or at once, but not once per entry per "
           "reply; one AppendEntries may carry many entries",
      part="B")
def message_counts(ctx: Context) -> None:
    run = checked(ctx, ["--faults", "none", "--duration-ms", "4000"], "counts", offset=1)[0]
    per_op = run.report.get("peer_messages_per_op", 0)
    if per_op > MAX_MESSAGES_PER_OP:
        ctx.replay = labraft.replay(run, "replication")
        raise Failed(f"{per_op:.1f} peer messages per client operation (at most "
                     f"{MAX_MESSAGES_PER_OP})")


@test("agreement despite lost, duplicated and reordered messages and partitions",
      hint="a follower must accept an AppendEntries only if its log holds prev_log_index with "
           "prev_log_term, cut its log only at a real conflict (an old or duplicated message "
           "must not truncate entries), and the leader must retry until the follower matches",
      part="B")
def unreliable_network(ctx: Context) -> None:
    checked(ctx, ["--faults", "network"], "network", seeds=3, offset=10)


def rejections(events: List[labraft.Event]) -> Dict[Tuple[int, int], List[labraft.Event]]:
    out: Dict[Tuple[int, int], List[labraft.Event]] = {}
    for e in events:
        if e.kind == "custom" and "AppendEntries rejected" in e.rest and "term 0 index 0" \
                not in e.rest:
            out.setdefault((e.node, e.term), []).append(e)
    return out


@test("fast backup: a lagging follower catches up in a few round trips",
      hint="when the consistency check fails, reply with conflict_term (the term of your entry "
           "at prev_log_index, 0 if your log is shorter) and conflict_index (the first index "
           "of that term, or your last index + 1); the leader skips the whole term at once "
           "(the paper's 5.3, 'If desired, the protocol can be optimized...')",
      part="B")
def fast_backup(ctx: Context) -> None:
    for run in checked(ctx, ["--faults", "partition,crash", "--duration-ms", "6000"],
                       "backup", seeds=3, offset=20):
        events = labraft.read_trace(run.trace)
        worst = max(rejections(events).items(), key=lambda kv: len(kv[1]), default=None)
        if worst and len(worst[1]) > MAX_REJECTIONS:
            (node, term), evs = worst
            f = labraft.Finding("", evs[MAX_REJECTIONS].line, term)
            ctx.replay = labraft.replay(run, "replication", f)
            raise Failed(f"node {node} rejected {len(evs)} AppendEntries of the leader of term "
                         f"{term} (at most {MAX_REJECTIONS}): the leader backs up one entry at "
                         f"a time")


@test("persistence: servers crash and restart (term, vote and log survive)",
      hint="term_, voted_for_ and the log must be saved (save_hard_state, append_to_log, "
           "truncate_log_after) and every reply that depends on them sent with "
           "send_after_persist; the leader counts its own copy only up to durable_index_",
      part="C")
def persistence(ctx: Context) -> None:
    checked(ctx, ["--faults", "crash,disk,pause"], "persist", seeds=3, offset=30)


@test("Figure 8: leaders crash while the servers' logs differ (5 servers)",
      hint="a leader commits by counting replicas only entries of its own term; earlier "
           "entries commit with them (Figure 2: log[N].term == currentTerm; section 5.4.2)",
      part="C")
def figure8(ctx: Context) -> None:
    # At most 2 entries per AppendEntries: a new leader's followers acknowledge old entries
    # before its own, the moment Figure 8 is about. No random loss in the scenario (a lost
    # scripted write would stall it).
    small = ["--broadcast-param", "max_entries_per_append=2"]
    checked(ctx, small + ["--faults", "none", "--nodes", "5", "--clients", "1", "--scenario",
                          "leader-crash", "--diverge-logs", "--trials", "40"], "figure8",
            offset=40)
    checked(ctx, small + ["--nodes", "5", "--faults", "crash,partition", "--duration-ms",
                          "8000"], "figure8-faults", seeds=3, offset=41)


@test("unreliable churn: every fault at once on 5 servers",
      hint="everything above at once; read the failing run's trace around the marked line",
      part="C")
def churn(ctx: Context) -> None:
    checked(ctx, ["--nodes", "5", "--faults", "all"], "churn", seeds=4, offset=50)


@test("the real service: 3 servers, kazoo writes and reads, the leader killed and restarted",
      hint="the same code runs in `qlab server` processes with a write-ahead log on disk; if "
           "the simulator's tests pass, look at the cluster's logs in the scratch folder",
      part="C")
def real_service(ctx: Context) -> None:
    pd = labraft.plugin_for(ctx)
    old = os.environ.get("QL_PLUGIN_DIR")
    os.environ["QL_PLUGIN_DIR"] = str(pd)  # the servers the cluster starts inherit it
    ctx.defer(lambda: os.environ.pop("QL_PLUGIN_DIR", None) if old is None
              else os.environ.__setitem__("QL_PLUGIN_DIR", old))
    from kazoo.client import KazooClient
    from kazoo.exceptions import NodeExistsError
    from kazoo.retry import KazooRetry, RetryFailedError
    c = ctx.cluster(nodes=3, broadcast="lab-raft", storage="wal")
    ctx.replay = (f"QL_PLUGIN_DIR={pd} python3 -m quorumlab.lab check raft-log "
                  f"--only 'real service' --verbose")
    zk = KazooClient(hosts=c.zk_connect_string, timeout=10)
    zk.start(timeout=20)
    ctx.defer(zk.stop)
    zk.ensure_path("/lab5")
    for i in range(20):
        zk.create(f"/lab5/a{i:02d}", f"{i}".encode())
    leader = c.leader(timeout=20)
    ctx.log(f"20 znodes written; killing the leader, node {leader}")
    c.kill(leader)
    retry = KazooRetry(max_tries=-1, deadline=30, max_delay=1)
    for i in range(20, 40):
        try:
            retry(zk.create, f"/lab5/a{i:02d}", f"{i}".encode())
        except NodeExistsError:  # it was created, the reply was lost with the connection
            pass
        except RetryFailedError:
            raise Failed(f"writing /lab5/a{i:02d} did not succeed within 30 s of killing "
                         f"the leader") from None
    ctx.log(f"20 more written; restarting node {leader}")
    c.restart(leader, wait_for_leader=True)
    children = sorted(zk.get_children("/lab5"))
    ctx.equal(children, [f"a{i:02d}" for i in range(40)], "the znodes under /lab5")
    zk.sync("/lab5")
    data, _ = zk.get("/lab5/a39")
    ctx.equal(data, b"39", "the data of /lab5/a39")
    # The restarted server caught up: a client of its own sees every znode after a sync.
    port = [n for n in c.status() if n["id"] == leader][0]["zk_port"]
    zk2 = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
    zk2.start(timeout=20)
    ctx.defer(zk2.stop)
    zk2.sync("/lab5")
    ctx.equal(len(zk2.get_children("/lab5")), 40,
              f"znodes under /lab5 seen through the restarted node {leader}")
