"""Lab 4's autograder (Raft, part A: leader election), in the spirit of 6.5840's 3A tests.

The student's raft.cpp is compiled into the broadcast plugin `lab-raft` (quorumlab.labraft)
and run in the deterministic simulator (`qlab sim`) without clients: only elections happen.
Each test reads the simulator's report and its trace (who became candidate, who voted for whom,
who became leader, when the faults fell). The seed chooses the timeouts' random draws, the
message delays and the faults, so a failing run replays exactly.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, List, Set

from quorumlab import labraft
from quorumlab.lab import Context, Failed, test

QUIET = ["--clients", "0", "--faults", "none"]
LEADER_WITHIN_S = 5.0
WINDOW_S = 0.8  # 3 ms ticks: about 4 election timeouts of 90-180 ms
MSGS_PER_FOLLOWER_PER_S = 30  # heartbeats of 10 a second, request and reply: 20


def elections(ctx: Context, run: labraft.SimRun) -> List[labraft.Event]:
    """The trace, with the safety checks every test makes: one vote per server and term, one
    leader per term, and the simulator's own checks."""
    events = labraft.require_trace_safe(ctx, run)
    labraft.require_sim_ok(ctx, run, "elections")
    return events


def leaders(events: List[labraft.Event]) -> List[labraft.Event]:
    return [e for e in events if e.kind == "became_leader"]


def fail(ctx: Context, run: labraft.SimRun, msg: str, line: int = 0, term: int = 0) -> None:
    f = labraft.Finding(msg, line, term) if line else None
    ctx.replay = labraft.replay(run, "elections", f)
    raise Failed(msg)


def one_leader_at(ctx: Context, run: labraft.SimRun, events: List[labraft.Event], t: float,
                  nodes: List[int], what: str) -> None:
    """At time t exactly one of `nodes` leads, in the highest term any of them is in, and no
    other of them is candidate or leader."""
    roles = labraft.roles_at(events, t)
    cur = {n: roles.get(n, ("became_follower", 0)) for n in nodes}
    top = max(term for _, term in cur.values())
    lead = [n for n, (k, term) in cur.items() if k == "became_leader" and term == top]
    stale = [n for n, (k, term) in cur.items() if k == "became_leader" and term < top]
    cands = [n for n, (k, _) in cur.items() if k == "became_candidate"]
    last = max((e.line for e in events if e.t <= t), default=0)
    if not lead:
        fail(ctx, run, f"{what}: at t={t:.1f} s no server leads (highest term {top}; "
                       f"candidates: {cands or 'none'})", last, top)
    if stale:
        fail(ctx, run, f"{what}: at t={t:.1f} s node {stale[0]} still thinks it leads an "
                       f"older term than {top}", last, top)


@test("raft.cpp compiles into the lab-raft plugin",
      hint="run the build yourself: the lab's CMake project is experiments/labs/common/labraft "
           "(the first compiler errors are above)",
      part="A")
def compiles(ctx: Context) -> None:
    labraft.plugin_for(ctx)
    for w in labraft.warnings_of(ctx.work)[:5]:
        ctx.log(f"compiler: {w}")


@test("initial election: a leader within 5 s, and only one",
      hint="a follower that hears nothing for its (random) election timeout becomes candidate: "
           "term+1, votes for itself, sends RequestVote to every peer; a candidate with votes "
           "from a majority becomes leader and sends heartbeats at once",
      part="A")
def initial_election(ctx: Context) -> None:
    run = labraft.sim(ctx, QUIET + ["--duration-ms", "6000"], "initial")
    events = elections(ctx, run)
    first = leaders(events)
    if not first or first[0].t > LEADER_WITHIN_S:
        fail(ctx, run, f"no leader within {LEADER_WITHIN_S:.0f} s of the start" +
             (f" (the first at t={first[0].t:.2f} s)" if first else ""),
             max((e.line for e in events if e.t <= LEADER_WITHIN_S), default=0))
    ctx.log(f"first leader: node {first[0].node} in term {first[0].term} at t={first[0].t:.3f} s")
    one_leader_at(ctx, run, events, 6.0, [1, 2, 3], "after 6 s")


@test("no election while the leader lives and the network is fine",
      hint="the leader must send heartbeats (AppendEntries) more often than the smallest "
           "election timeout, and a follower must restart its election timer on each one from "
           "the current leader (and when it grants a vote), not on every message",
      part="A")
def no_needless_elections(ctx: Context) -> None:
    run = labraft.sim(ctx, QUIET + ["--duration-ms", "10000"], "stable", 1)
    events = elections(ctx, run)
    first = leaders(events)
    if not first:
        fail(ctx, run, "no leader in 10 s")
    later = [e for e in events if e.kind == "became_candidate" and e.t > first[0].t]
    if later:
        e = later[0]
        fail(ctx, run, f"node {e.node} started an election (term {e.term}) at t={e.t:.3f} s "
                       f"although node {first[0].node} leads since t={first[0].t:.3f} s and "
                       f"nothing failed", e.line, e.term)


@test("at most 30 messages per follower per idle second",
      hint="heartbeats about 10 times a second are enough (heartbeat_interval_ticks = 10 ticks "
           "of 10 ms); send one AppendEntries per peer per heartbeat, not one per tick or per "
           "reply",
      part="A")
def idle_messages(ctx: Context) -> None:
    run = labraft.sim(ctx, QUIET + ["--duration-ms", "8000"], "idle", 2)
    events = elections(ctx, run)
    first = leaders(events)
    if not first:
        fail(ctx, run, "no leader in 8 s")
    start, end = first[0].t + 1.0, 8.0
    delivered = [e for e in events if e.kind == "deliver" and start <= e.t < end]
    rate = len(delivered) / (end - start) / 2  # 3 servers: 2 followers
    ctx.log(f"{len(delivered)} messages delivered in {end - start:.1f} idle seconds: "
            f"{rate:.1f} per follower per second")
    if rate > MSGS_PER_FOLLOWER_PER_S:
        fail(ctx, run, f"{rate:.0f} messages per follower per idle second (at most "
                       f"{MSGS_PER_FOLLOWER_PER_S})", delivered[0].line if delivered else 0)


@test("re-election after the leader crashes (20 crashes, a new leader within 5 s each)",
      hint="followers must notice a silent leader after an election timeout and elect a new "
           "one; a restarted server starts as a follower with the term and vote it saved",
      part="B")
def leader_crash(ctx: Context) -> None:
    run = labraft.sim(ctx, ["--clients", "0", "--scenario", "leader-crash", "--trials", "20",
                            "--trial-timeout-ms", str(int(LEADER_WITHIN_S * 1000))],
                      "leader-crash", 3)
    elections(ctx, run)
    r = run.report
    times = r.get("election_ms_trials", [])
    ctx.log(f"election times (ms): {[round(x) for x in times]}")
    if r.get("censored", 0) or not times:
        fail(ctx, run, f"{r.get('censored', '?')} of 20 leader crashes had no new leader "
                       f"within {LEADER_WITHIN_S:.0f} s")
    if max(times) > LEADER_WITHIN_S * 1000:
        fail(ctx, run, f"a re-election took {max(times):.0f} ms")


def cut_pairs(desc: str, nodes: List[int]) -> Set[FrozenSet[int]]:
    """The pairs of servers a partition (as the trace describes it) separates."""
    m = re.search(r"one way: (\d+) cannot send to (\d+)", desc)
    if m:
        return {frozenset((int(m.group(1)), int(m.group(2))))}
    m = re.search(r"\{([\d,]+)\}", desc) or re.search(r"leader (\d+) isolated", desc)
    if not m:
        return set()
    side = {int(x) for x in m.group(1).split(",")}
    return {frozenset((a, b)) for a in side for b in nodes if b not in side}


def majority_of(cut: Set[FrozenSet[int]], nodes: List[int]) -> List[int]:
    """The servers that all reach each other and form a majority, if any."""
    comp = {n: {n} for n in nodes}
    for a in nodes:
        for b in nodes:
            if a < b and frozenset((a, b)) not in cut and comp[a] is not comp[b]:
                merged = comp[a] | comp[b]
                for n in merged:
                    comp[n] = merged
    for c in comp.values():
        if len(c) > len(nodes) // 2:
            return sorted(c)
    return []


def stable_moments(events: List[labraft.Event], nodes: List[int], end: float, length: float):
    """(time, majority) for every stretch of at least `length` seconds in which the partitions
    did not change: `length` seconds into it, with the servers that reached each other."""
    active: Dict[str, Set[FrozenSet[int]]] = {}
    out = []
    since = 0.0
    for e in events + [labraft.Event(0, end, 0, "end", "", "", "", "")]:
        if e.kind not in ("partition", "heal_partition", "end"):
            continue
        if e.t - since >= length:
            cut = set().union(*active.values()) if active else set()
            maj = majority_of(cut, nodes)
            if maj:
                out.append((since + length, maj))
        if e.kind == "partition":
            active[e.a] = cut_pairs(e.rest, nodes)
        elif e.kind == "heal_partition":
            active.pop(e.a, None)
        since = e.t
    return out


@test("partitions: a leader among the servers that reach each other (3 ms ticks)",
      hint="a leader or candidate that sees a higher term in any message (request or reply) "
           "becomes follower of that term; a partitioned leader's followers elect a new one",
      part="B")
def partitions(ctx: Context) -> None:
    checked = 0
    for k in range(3):
        # Ticks of 3 ms: every timeout is 3.3 times shorter than with the default 10 ms, so
        # the simulator's frequent partitions leave stretches long enough to elect a leader.
        run = labraft.sim(ctx, ["--clients", "0", "--faults", "partition", "--duration-ms",
                                "15000", "--tick-ms", "3"], "partition", 10 + k)
        events = elections(ctx, run)
        for t, majority in stable_moments(events, [1, 2, 3], 15.0, WINDOW_S):
            one_leader_at(ctx, run, events, t, majority,
                          f"{WINDOW_S} s after the partitions last changed (servers "
                          f"{majority} reach each other)")
            checked += 1
    ctx.log(f"{checked} moments checked")
    if checked == 0:
        raise Failed("no stretch without a change of the partitions was long enough to check "
                     "(try another --seed)")


@test("many elections on 7 servers with crashes and partitions: one leader per term",
      hint="grant at most one vote per term (votedFor, saved before the reply goes out), only "
           "to a candidate whose log is at least as up to date as yours; count each voter "
           "once",
      part="B")
def many_elections(ctx: Context) -> None:
    total = 0
    for k in range(3):
        run = labraft.sim(ctx, ["--clients", "0", "--nodes", "7", "--faults",
                                "crash,partition,pause", "--duration-ms", "10000"],
                          "seven", 20 + k)
        events = elections(ctx, run)
        total += len(leaders(events))
    ctx.log(f"{total} leaders elected in 3 runs")
    if total < 3:
        fail(ctx, run, f"only {total} leaders elected in 3 runs of 10 s")
