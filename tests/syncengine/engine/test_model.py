"""The engine's state machine (tests/syncengine/engine/model.py) under Hypothesis, over
every registered mailbox kind. Replay-safe: each rule draws two fixed-range integers and
the model picks items by its own keys, so Hypothesis replays and shrinks a failing run
(no rule reads live state, no precondition, emulator ids deterministic per seed).

CI runs a bounded, derandomized budget (RELAY_MODEL_EXAMPLES x RELAY_MODEL_STEPS per
kind, 6 x 30: about half a minute per kind on a busy two-core machine); a deeper local run,
or `make soak` (tests/syncengine/engine/soak_model.py):

    RELAY_MODEL_EXAMPLES=100 RELAY_MODEL_STEPS=50 RELAY_MODEL_RANDOM=1 \\
        .venv/bin/pytest tests/syncengine/engine/test_model.py
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from .model import ARG, MODEL_KINDS, SPAN, Model

EXAMPLES = int(os.environ.get("RELAY_MODEL_EXAMPLES", "6"))
STEPS = int(os.environ.get("RELAY_MODEL_STEPS", "30"))
RANDOM = bool(os.environ.get("RELAY_MODEL_RANDOM"))
A = st.integers(0, ARG - 1)
B = st.integers(0, SPAN - 1)


def machine_for(kind: str, sandbox: Any) -> type[RuleBasedStateMachine]:
    """One Hypothesis rule per model rule, each drawing (a, b) and nothing else."""

    def __init__(self: Any) -> None:
        RuleBasedStateMachine.__init__(self)
        self.model = Model(kind, sandbox, seed=0)

    def make(name: str) -> Any:
        def step(self: Any, a: int, b: int) -> None:
            self.model.step(name, a, b)

        step.__name__ = step.__qualname__ = name  # how a failing run is printed
        return rule(a=A, b=B)(step)

    def teardown(self: Any) -> None:
        self.model.close()

    body: dict[str, Any] = {"__init__": __init__, "teardown": teardown}
    for name in dict.fromkeys(Model.RULES):
        body[name] = make(name)
    body["sync_again"] = make("sync")  # sessions come often
    return type(f"EngineModel_{kind}", (RuleBasedStateMachine,), body)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_the_engine_model(kind, sandbox, settings, db):
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    run_state_machine_as_test(
        machine_for(kind, sandbox),
        settings=hsettings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not RANDOM,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
