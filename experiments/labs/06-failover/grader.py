"""Lab 6's autograder. The student's experiment file is validated by the experiment layer
itself; their answers are checked against the results folder their own run wrote (never
against fixed figures: real clusters on a shared machine are noisy), and their conclusions
against their own numbers. The explanations are read by the instructor; the grader checks
they exist and name the phases the lab is about."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Dict, List, Tuple

from quorumlab import experiment
from quorumlab.lab import Context, Failed, test

LABELS = ["zab", "raft", "raft-cq"]
FAULTS = ["kill", "isolate"]


def load_experiment(ctx: Context) -> Any:
    path = ctx.work / "compare.toml"
    try:
        return experiment.load(str(path))
    except (experiment.ExperimentError, OSError) as e:
        raise Failed(f"compare.toml is refused by the experiment layer: {e}") from None


def results_rows(ctx: Context) -> Tuple[Path, Dict[Tuple[str, str], Dict[str, str]]]:
    a = ctx.answers_toml()
    folder = ctx.work / a.get("results", "")
    ctx.replay = f"cd {ctx.work} && python3 -m quorumlab run compare.toml --out {a.get('results')}"
    table = folder / "results.csv"
    if not table.is_file():
        raise Failed(f"{table} does not exist: run the experiment "
                     f"(python3 -m quorumlab run compare.toml) and set `results` to its folder")
    rows = {}
    with open(table) as f:
        for r in csv.DictReader(f):
            rows[(r.get("label") or r.get("broadcast"), r["fault"])] = r
    return folder, rows


def median_of(row: Dict[str, str]) -> Any:
    if row.get("status") != "ok":
        return "unavailable"
    return float(row["failover_ms_median"]), float(row["failover_ms_p90"])


@test("compare.toml runs zab, raft and raft-cq under kill and isolate",
      hint="a cluster experiment with workload = \"failover\", a variant axis with the labels "
           "zab, raft and raft-cq, and fault = [\"kill\", \"isolate\"], at least 5 rounds",
      part="experiment")
def experiment_shape(ctx: Context) -> None:
    exp = load_experiment(ctx)
    ctx.equal(exp.backend, "cluster", "the backend")
    points = exp.points()
    ctx.check(all(p.get("workload") == "failover" for p in points),
              "every point must run the failover workload")
    got = sorted({(p.get("label", p.get("broadcast")), p.get("fault")) for p in points})
    want = sorted((label, fault) for label in LABELS for fault in FAULTS)
    ctx.equal(got, want, "the (label, fault) pairs of the experiment's points")
    for p in points:
        label = p.get("label")
        ctx.check(p.get("broadcast") == label,
                  f"the variant labelled {label} runs broadcast {p.get('broadcast')}")
        ctx.check(p.get("rounds", 0) >= 5, f"{label}/{p.get('fault')}: {p.get('rounds')} "
                                            f"rounds; a median needs 5 or more")


@test("your results folder holds this experiment's runs",
      hint="run `python3 -m quorumlab run compare.toml` (not --quick) and put the folder it "
           "wrote in ANSWERS.toml `results`",
      part="experiment")
def results_exist(ctx: Context) -> None:
    exp = load_experiment(ctx)
    folder, rows = results_rows(ctx)
    manifest = json.loads((folder / "manifest.json").read_text())
    ctx.equal(manifest.get("experiment"), exp.name, "the experiment name in manifest.json")
    ctx.check(not manifest.get("quick"), "the results come from a --quick run")
    for label in LABELS:
        for fault in FAULTS:
            ctx.check((label, fault) in rows, f"results.csv has no row for {label}/{fault}")


@test("your [failover] answers are your results",
      hint="copy failover_ms_median and failover_ms_p90 of each row of results.csv (rounded to "
           "0.1 ms), and \"unavailable\" for a failed point",
      part="answers")
def failover_answers(ctx: Context) -> None:
    _, rows = results_rows(ctx)
    table = ctx.answers_toml().get("failover", {})
    for fault in FAULTS:
        for label in LABELS:
            want = median_of(rows[(label, fault)])
            got = table.get(fault, {}).get(label)
            ctx.log(f"{label}/{fault}: answered {got}, results {want}")
            if want == "unavailable":
                ctx.equal(got, "unavailable", f"[failover.{fault}] {label} (its point failed)")
                continue
            ctx.check(isinstance(got, dict), f"[failover.{fault}] {label} = {got!r}")
            for key, value in zip(("median_ms", "p90_ms"), want):
                ctx.check(math.isclose(got.get(key, -1), value, abs_tol=0.06),
                          f"[failover.{fault}] {label} {key} = {got.get(key)}, results.csv "
                          f"says {value:.3f}")


@test("your conclusions follow from your results",
      hint="fastest_after_kill: the label with the lowest kill median; "
           "unavailable_when_isolated: the labels whose isolate point failed",
      part="answers")
def conclusions(ctx: Context) -> None:
    _, rows = results_rows(ctx)
    c = ctx.answers_toml().get("conclusions", {})
    kill = {l: median_of(rows[(l, "kill")]) for l in LABELS}
    finite = {l: m[0] for l, m in kill.items() if m != "unavailable"}
    ctx.check(bool(finite), "no variant recovered from a kill")
    ctx.equal(c.get("fastest_after_kill"), min(finite, key=finite.get),
              "[conclusions] fastest_after_kill")
    unavailable = sorted(l for l in LABELS if median_of(rows[(l, "isolate")]) == "unavailable")
    ctx.equal(sorted(c.get("unavailable_when_isolated", [])), unavailable,
              "[conclusions] unavailable_when_isolated")


def explained(ctx: Context, key: str, words: int, must: List[List[str]]) -> None:
    text = str(ctx.answers_toml().get("conclusions", {}).get(key, ""))
    n = len(text.split())
    ctx.check(n >= words, f"[conclusions] {key} has {n} words: explain it ({words} or more)")
    low = text.lower()
    for alternatives in must:
        ctx.check(any(a in low for a in alternatives),
                  f"[conclusions] {key} does not mention {' or '.join(alternatives)}")


@test("you explain zab's recovery phases",
      hint="what tells zab's followers that the leader is gone (killed, isolated), then fast "
           "leader election, discovery and synchronization (ZooKeeper paper 4.2, Junqueira et "
           "al. 2011)",
      part="answers")
def zab_explained(ctx: Context) -> None:
    explained(ctx, "zab_recovery", 60, [["election"], ["discovery", "synchroni"]])


@test("you explain raft's recovery and the isolated leader",
      hint="the election timeout, terms and votes (Raft paper 5.2); what CheckQuorum changes "
           "for a leader that is cut off (thesis 6.2)",
      part="answers")
def raft_explained(ctx: Context) -> None:
    explained(ctx, "raft_recovery", 60, [["timeout"], ["term"], ["vote"]])
    explained(ctx, "why_raft_isolated_never_recovers", 40,
              [["checkquorum", "check quorum", "check_quorum"], ["step down", "steps down"]])
