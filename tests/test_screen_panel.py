"""The Research app's screen: priced first, every paid step approved by its own click.

On the demo the screen is free and runs at once; on the BigQuery emulator nothing is
submitted until "Approve" is clicked, and each click lets exactly one priced request run
(counted on the wire through the proxy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faultproxy import FaultyProxy, Loaded, routed
from workbench import config
from workbench.cache import Cache
from workbench.query import DayRange
from workbench.sources.base import CostEstimate
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.bigquery.faults import RetryPolicy
from workbench.sources.demo import DemoSource
from workbench.views.screen import Approvals, ScreenPanel

# the emulator on a loaded machine can be slow: a patient policy (no faults are injected here)
PATIENT = RetryPolicy(timeout=60.0, deadline=30.0, initial=0.05, maximum=0.5)


def test_approvals_let_one_request_through_per_click() -> None:
    gate = Approvals()
    estimate = CostEstimate(2**30, 1)
    assert not gate(estimate) and gate.pending == estimate
    gate.grant()
    assert gate(estimate) and gate.pending is None
    assert not gate(estimate)  # the click is used up


def test_demo_screen_is_free_ranks_every_package_and_opens_one(
    small_demo: DemoSource, tmp_path: Path
) -> None:
    opened: list[str] = []
    last = small_demo.last_day()
    days = DayRange(last - dt.timedelta(days=29), last)
    panel = ScreenPanel(small_demo, Cache(tmp_path), lambda: days, on_open=opened.append)
    assert "free on this source" in panel.price.value
    panel.deep.value = 3
    panel.run()
    assert panel.result is not None, panel.status.value
    table = panel.result.table
    assert table.height == len(small_demo.project_names())
    assert table["rank"].to_list() == sorted(table["rank"].to_list())
    assert int(table["deep"].sum()) == 3
    assert "wb-screen" in panel.table.value and "packages screened" in panel.status.value
    top = table["project"][0]
    panel.pick.value = top
    assert opened == [top]


@pytest.fixture
def via(proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    yield from routed(proxy, monkeypatch, config.BIGQUERY_ENDPOINT_ENV)


def _jobs(proxy: FaultyProxy) -> int:
    return sum(1 for seen in proxy.seen if seen.kind == "job")


@pytest.mark.emulator
def test_bigquery_screen_is_priced_and_each_paid_step_waits_for_approve(
    via: FaultyProxy, public: Loaded, tmp_path: Path
) -> None:
    gate = Approvals()
    source = BigQuerySource(confirm=gate, retry_policy=PATIENT)
    days = DayRange(public.first, public.first + dt.timedelta(days=4))
    panel = ScreenPanel(source, Cache(tmp_path), lambda: days, approvals=gate)
    assert "costs" in panel.price.value and "≈ $" in panel.price.value
    panel.deep.value = 2
    before = _jobs(via)
    panel.run()
    assert panel.result is None and _jobs(via) == before  # priced, nothing billed
    assert panel.approve.layout.display is None and "would cost" in panel.status.value
    clicks = 0
    while panel.result is None and clicks < 12:  # the population, then the deep-dive's
        panel.approve.click()
        clicks += 1
    assert panel.result is not None, panel.status.value
    assert clicks >= 2  # each paid step had its own click
    assert panel.approve.layout.display == "none"
    assert "held in the cache" in panel.price.value  # never paid twice for those days
    billed = _jobs(via)
    panel.run()  # again: the population is held, the deep-dive's rollups too
    assert panel.result is not None and _jobs(via) == billed
