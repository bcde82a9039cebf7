"""Lab 3's autograder. The simulator is deterministic: the student's stale-read numbers are
re-measured with the grader's own calls and must match exactly; the anomaly seed is replayed;
the real-cluster costs are noisy, so they are checked for completeness and the conclusions
for consistency with the student's own numbers (never against fixed figures)."""
from __future__ import annotations

from typing import Dict

from quorumlab import sim
from quorumlab.lab import Context, test

POLICIES = ["local", "sync", "leader", "read-index", "lease"]
PARAMS = {"lease": {"lease": True}}


def grader_stale(broadcast: str, policy: str, seeds) -> Dict[str, int]:
    df = sim.sweep(list(seeds), workers=2, progress=False, broadcast=broadcast,
                   read_policy=policy, params=PARAMS.get(policy))
    return {"reads": int(df.reads.sum()), "stale": int(df.stale_reads.sum()),
            "seeds_with_stale": int((df.stale_reads > 0).sum())}


def replay_sim(policy: str, seed: int) -> str:
    lease = " --broadcast-param lease=true" if policy == "lease" else ""
    return (f"build/bin/qlab sim --broadcast zab --read-policy {policy}{lease} --seed {seed} "
            f"--verbose --trace /tmp/lab3-{policy}-{seed}.trace; then read the trace around "
            f"the read that missed a write (grep -n 'read\\|stale' /tmp/lab3-{policy}-{seed}.trace)")


@test("measure_stale counts what the simulator reports",
      hint="sum the reads and stale_reads columns over the seeds; seeds_with_stale counts the "
           "seeds (rows) with at least one stale read",
      part="measure")
def stale_matches(ctx: Context) -> None:
    m = ctx.import_student("measure")
    seeds = range(ctx.seed, ctx.seed + 30)
    for policy in ("local", "leader"):
        got = m.measure_stale("zab", policy, seeds)
        want = grader_stale("zab", policy, seeds)
        ctx.log(f"{policy}: yours {got}, the simulator's {want}")
        ctx.equal(dict(got), want, f"measure_stale('zab', '{policy}', seeds {seeds.start}.."
                                   f"{seeds.stop - 1})")


@test("find_sync_anomaly returns the first seed with a stale read after sync",
      hint="run each seed with read_policy='sync' in order and return the first whose result "
           "has result.stale['stale'] > 0",
      part="measure")
def anomaly_found(ctx: Context) -> None:
    m = ctx.import_student("measure")
    seeds = range(1, 101)
    got = m.find_sync_anomaly("zab", seeds)
    first = None
    for s in seeds:
        if sim.run(broadcast="zab", read_policy="sync", seed=s, history=False).stale["stale"]:
            first = s
            break
    ctx.equal(got, first, "the first seed of 1..100 with a stale read under sync")


@test("measure_cost measures a real cluster and checks its history",
      hint="start a Cluster with the policy, bench it with history=PATH, return ops_per_s, "
           "the p99 latency in ms and check_history(PATH)['stale_reads']",
      part="measure")
def cost_works(ctx: Context) -> None:
    m = ctx.import_student("measure")
    policy = POLICIES[ctx.seed % len(POLICIES)]
    got = m.measure_cost("zab", policy, seconds=1.0)
    ctx.log(f"measure_cost('zab', '{policy}'): {got}")
    for key in ("ops_per_s", "p99_ms", "stale_reads"):
        ctx.check(key in got, f"measure_cost returned {got}: '{key}' is missing")
    ctx.check(got["ops_per_s"] > 100, f"ops_per_s {got['ops_per_s']} is implausibly low")
    ctx.check(0 < got["p99_ms"] < 10_000, f"p99_ms {got['p99_ms']} is not a latency in ms")
    ctx.check(isinstance(got["stale_reads"], int) and got["stale_reads"] >= 0,
              f"stale_reads {got['stale_reads']!r} is not a count")


@test("your [stale] answers are your own measurements",
      hint="run measure_stale for every policy over range(seeds[0], seeds[1] + 1) and copy the "
           "three numbers of each into [stale]",
      part="answers")
def stale_answers(ctx: Context) -> None:
    a = ctx.answers_toml()
    m = ctx.import_student("measure")
    lo, hi = a.get("seeds", [0, 0])
    ctx.check(100 <= hi - lo + 1 <= 400, f"seeds = [{lo}, {hi}]: measure 100 to 400 seeds")
    for policy in POLICIES:
        want = m.measure_stale(a.get("broadcast", "zab"), policy, range(lo, hi + 1))
        got = a.get("stale", {}).get(policy)
        ctx.log(f"{policy}: answered {got}, measured {want}")
        ctx.equal(got, want, f"[stale] {policy}")


@test("the anomaly you report reproduces, and you explain it",
      hint="put the seed find_sync_anomaly returned in [anomaly] seed, replay it with --trace "
           "and explain in your words (at least 40) how a read after sync missed a write",
      part="answers")
def anomaly_answer(ctx: Context) -> None:
    a = ctx.answers_toml().get("anomaly", {})
    seed = a.get("seed", 0)
    ctx.replay = replay_sim("sync", seed)
    ctx.check(isinstance(seed, int) and seed > 0, f"[anomaly] seed = {seed!r}: give a seed")
    r = sim.run(broadcast="zab", read_policy="sync", seed=seed, history=False)
    ctx.check(r.stale["stale"] > 0, f"seed {seed} has no stale read under sync")
    words = len(str(a.get("explanation", "")).split())
    ctx.check(words >= 40, f"[anomaly] explanation has {words} words: explain it (40 or more)")


@test("your [cost] answers are complete",
      hint="run measure_cost for every policy and copy ops_per_s, p99_ms and stale_reads",
      part="answers")
def cost_answers(ctx: Context) -> None:
    cost = ctx.answers_toml().get("cost", {})
    for policy in POLICIES:
        c = cost.get(policy, {})
        ctx.check(c.get("ops_per_s", 0) > 0 and c.get("p99_ms", 0) > 0,
                  f"[cost] {policy} = {c}: measure it")


@test("your conclusions follow from your numbers",
      hint="derive each conclusion from your [stale] and [cost] tables: no stale read at all; "
           "the fastest of those; the order of stale reads per read",
      part="answers")
def conclusions(ctx: Context) -> None:
    a = ctx.answers_toml()
    stale, cost, c = a.get("stale", {}), a.get("cost", {}), a.get("conclusions", {})
    never = sorted(p for p in POLICIES if stale.get(p, {}).get("stale", 1) == 0 and
                   stale.get(p, {}).get("reads", 0) > 0)
    ctx.equal(sorted(c.get("never_stale", [])), never, "[conclusions] never_stale")
    if never:
        best = max(never, key=lambda p: cost.get(p, {}).get("ops_per_s", 0))
        ctx.equal(c.get("cheapest_never_stale"), best, "[conclusions] cheapest_never_stale")
    order = c.get("stale_rate_order", [])
    ctx.equal(sorted(order), sorted(POLICIES), "the policies in [conclusions] stale_rate_order")

    def rate(p: str) -> float:
        s = stale.get(p, {})
        return s.get("stale", 0) / max(1, s.get("reads", 0))
    for earlier, later in zip(order, order[1:]):
        ctx.check(rate(earlier) >= rate(later),
                  f"stale_rate_order puts {earlier} ({rate(earlier):.5f} stale per read) before "
                  f"{later} ({rate(later):.5f})")
    words = len(str(c.get("why_leader_is_stale", "")).split())
    ctx.check(words >= 20, f"why_leader_is_stale has {words} words: explain it (20 or more)")
