"""`make soak`: the engine model (model.py) driven by a seeded random generator for many
steps per mailbox kind, faults included; not part of `make test` (the file name keeps it
out of collection). Each run of RELAY_SOAK_RUN_STEPS steps starts from emptied emulators
and a fresh user with its own seed, so any failure replays from the seed printed:

    RELAY_SOAK_STEPS=10000 .venv/bin/pytest -q -s tests/syncengine/engine/soak_model.py
    RELAY_SOAK_REPLAY=<kind>:<seed> ...   # one run again, its steps printed
    RELAY_SOAK_KINDS=gmail ...            # only these kinds (one process per kind)

It prints one JSON object (steps run, runs, failures with kind, seed, step and error,
wall time per kind) and fails when a run failed.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
from typing import Any

from .model import ARG, MODEL_KINDS, SPAN, Model

STEPS = int(os.environ.get("RELAY_SOAK_STEPS", "10000"))
RUN_STEPS = int(os.environ.get("RELAY_SOAK_RUN_STEPS", "50"))
FIRST_SEED = int(os.environ.get("RELAY_SOAK_SEED", "1"))
REPLAY = os.environ.get("RELAY_SOAK_REPLAY", "")
# A comma-separated subset of the model's kinds, so kinds can soak in parallel processes.
KINDS = tuple(k for k in os.environ.get("RELAY_SOAK_KINDS", "").split(",") if k) or MODEL_KINDS


def run_once(
    kind: str, sandbox: Any, seed: int, steps: int, trace: bool = False
) -> tuple[int, BaseException | None]:
    """Run `steps` steps from `seed`: (steps run, the failure or None)."""
    rng = random.Random(f"relay-soak:{kind}:{seed}")
    model = Model(kind, sandbox, seed=seed)
    try:
        for n in range(steps):
            rule = rng.choice(Model.RULES)
            a, b = rng.randrange(ARG), rng.randrange(SPAN)
            if trace:
                print(f"step {n}: {rule}(a={a}, b={b})")
            model.step(rule, a, b)
        model.clear_faults()
        model.sync()  # a clean session closes every run: all checks apply
    except Exception as exc:  # reported with its seed by the caller
        return model.steps, exc
    finally:
        model.close()
    return model.steps, None


def test_soak(sandbox: Any, settings: Any, db: None) -> None:
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    if REPLAY:
        replay_kind, _, replay_seed = REPLAY.partition(":")
        _, failure = run_once(replay_kind, sandbox, int(replay_seed), RUN_STEPS, trace=True)
        if failure is not None:
            raise failure
        return
    report: dict[str, Any] = {"steps_per_kind": STEPS, "run_steps": RUN_STEPS, "kinds": {}}
    failures: list[dict[str, Any]] = []
    for kind in KINDS:
        assert kind in MODEL_KINDS, f"RELAY_SOAK_KINDS names {kind!r}, not one of {MODEL_KINDS}"
        started, steps, runs, seed = time.monotonic(), 0, 0, FIRST_SEED
        seeds = []
        while steps < STEPS:
            runs += 1
            seeds.append(seed)
            ran, failure = run_once(kind, sandbox, seed, min(RUN_STEPS, STEPS - steps))
            steps += max(ran, 1)
            # One line per run as it ends, so a long soak shows its progress and rate.
            verdict = "ok" if failure is None else f"FAILED {failure!r}"[:200]
            elapsed = time.monotonic() - started
            print(f"soak {kind} seed {seed}: {steps} steps, {elapsed:.0f} s, {verdict}", flush=True)
            if failure is not None:
                where = traceback.format_exception(failure)[-4:]
                failures.append(
                    {
                        "kind": kind,
                        "seed": seed,
                        "step": ran,
                        "error": repr(failure)[:500],
                        "where": [line.strip()[:300] for line in where],
                    }
                )
            seed += 1
        report["kinds"][kind] = {
            "steps": steps,
            "runs": runs,
            "seeds": [seeds[0], seeds[-1]],
            "wall_seconds": round(time.monotonic() - started, 1),
        }
    report["failures"] = failures
    print(json.dumps(report, indent=2))
    assert not failures, f"{len(failures)} soak run(s) failed: see the JSON above"
