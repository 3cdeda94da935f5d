"""A parsed plan kept as bytes: the same plan back, and nothing but a plan."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from plans import load_plan
from plans.stored import STAMP, NotThawed, freeze, thaw

ROOT = Path(__file__).resolve().parents[2]


def test_a_frozen_plan_thaws_to_the_same_plan() -> None:
    plan = load_plan(ROOT / "plans.yaml")
    again = thaw(freeze(plan))
    assert again == plan
    assert again.partnership.name == "Safer Kingston Partnership"
    assert again.rules == plan.rules
    assert len(STAMP) == 64


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_bytes_that_would_run_code_are_refused_and_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(NotThawed, match="may not name"):
        thaw(pickle.dumps(_Payload(marker)))
    assert not marker.exists()


def test_a_function_of_the_plans_package_is_refused_too(tmp_path: Path) -> None:
    class Reader:
        def __reduce__(self) -> tuple[object, ...]:
            return (load_plan, (str(ROOT / "plans.yaml"),))

    with pytest.raises(NotThawed, match="plans.loader.load_plan"):
        thaw(pickle.dumps(Reader()))


@pytest.mark.parametrize("data", [b"", b"not a pickle", pickle.dumps({"a": 1}),
                                  freeze(load_plan(ROOT / "plans.yaml"))[:-100]])
def test_anything_else_is_not_a_plan(data: bytes) -> None:
    with pytest.raises(NotThawed):
        thaw(data)
