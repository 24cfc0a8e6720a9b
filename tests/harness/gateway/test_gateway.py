"""Gateway mode without a real gateway: the tiny gateway of faulty.py, faithful and in three faulty variants,
run through the whole machinery (adapter, lane isolation, GatewayProvider, checks, transparency), plus the
process management (a gateway that never becomes ready, that exits before, that dies mid-run) and adapter
validation errors.

The faithful variant passes every case it runs. Each faulty variant fails exactly the cases that check
what it breaks, with exactly these checks (the table is the whole truth: any other case failing, or a
listed check not failing, is a test failure).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.baseline import Baseline
from harness.cli import main
from harness.gateway import docs
from harness.gateway.adapter import AdapterError, load_adapter
from harness.gateway.process import (
    GatewayDied,
    GatewayStartError,
    ProcessLauncher,
    RunningGateway,
)
from harness.gateway.run import gateway_error, gateway_providers, route_case, run_gateway
from harness.scenario import load_paths
from harness.verdicts import RunResult, Verdict
from mocks.server import BackgroundServer
from tests.harness.gateway import faulty, in_process

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ADAPTER = HERE / "faulty.yaml"
SCENARIOS = [ROOT / "scenarios" / f"{name}.yaml" for name in ("openai_chat", "openai_stream")]
PROBE = "gateway.transparency.openai.001"

#: variant → {failing case id: the checks that fail in it, exactly}.
EXPECTED: dict[str, dict[str, list[str]]] = {
    "faithful": {},
    # the cases whose client asked for usage (stream_options.include_usage)
    "drop_usage": {
        "openai.stream.text.001": ["fields.stream.items", "fields.usage", "stream.grammar.openai.usage_last"],
        "openai.stream.tool_call.001": ["fields.usage", "stream.grammar.openai.usage_last"],
        "openai.stream.parallel_tools.001": ["stream.grammar.openai.usage_last"],
    },
    # the paced probe: the whole stream arrives after the upstream's last event
    "coalesce": {
        PROBE: ["timing.streamed", "timing.transparency"],
    },
    # the streamed tool calls: the grammar rule, and the SDK oracle that assembles them by index
    "tool_index": {
        "openai.stream.tool_call.001": [
            "fields.stream.items",
            "sdk.openai",
            "stream.grammar.openai.tool_index",
        ],
        "openai.stream.parallel_tools.001": ["sdk.openai", "stream.grammar.openai.tool_index"],
    },
}


def launcher(variant: str) -> in_process.InProcess:
    """faulty.py with ``variant``, in the runner's own trio loop (no process)."""

    async def serve(upstreams: Mapping[str, str], upstream_key: str, key: str, task_status: Any) -> None:
        await faulty.serve(variant, upstreams["openai"], upstream_key, key, task_status=task_status)

    return in_process.InProcess("faulty", ADAPTER, serve)


def run_variant(variant: str, **kwargs: Any) -> RunResult:
    adapter = load_adapter(ADAPTER)
    return run_gateway(load_paths(SCENARIOS), adapter, launcher(variant), sdk=True, **kwargs)


@pytest.fixture(autouse=True)
def _no_js_oracles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables here hold with or without Node: the JS oracles are tests/harness/test_js_oracles.py's."""
    monkeypatch.setenv("WIRECHECK_JS_ORACLES", str(ROOT / "no-js-oracles-here"))


def failing(result: RunResult) -> dict[str, list[str]]:
    return {
        r.case_id: sorted(c.id for c in r.failed_checks)
        for r in result.results
        if r.verdict is not Verdict.PASS and r.verdict is not Verdict.NOT_APPLICABLE
    }


@pytest.mark.parametrize("variant", list(EXPECTED))
def test_each_variant_fails_exactly_the_cases_that_check_what_it_breaks(variant: str) -> None:
    result = run_variant(variant)
    assert failing(result) == EXPECTED[variant]
    assert all(r.verdict is not Verdict.ERROR for r in result.results)
    ran = {r.case_id for r in result.results if r.verdict is not Verdict.NOT_APPLICABLE}
    assert PROBE in ran and len(ran) >= 8
    if variant == "faithful":
        assert result.ok and result.providers == ["faulty/openai"]


def test_the_transparency_figures_are_reported_on_a_pass_and_name_the_coalescing() -> None:
    good = run_variant("faithful").get(PROBE, "faulty/openai")
    check = next(c for c in good.checks if c.id == "timing.transparency")
    assert check.status == "pass" and "upstream" in check.message and "reads" in check.message
    bad = run_variant("coalesce").get(PROBE, "faulty/openai")
    message = next(c for c in bad.checks if c.id == "timing.transparency").message
    assert message.startswith(("buffered:", "coalesced:")), message


def test_a_baseline_turns_the_deviation_into_an_expected_failure_and_goes_stale(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "entries:\n"
        "  - {case: openai.stream.text.001, provider: faulty/openai, check: stream.grammar.openai.usage_last,"
        " reason: drops the usage chunk}\n"
        "  - {case: openai.stream.text.001, provider: faulty/openai, check: fields.stream.items, reason: same}\n"
        "  - {case: openai.stream.text.001, provider: faulty/openai, check: fields.usage, reason: same}\n"
    )
    only = [c for c in load_paths(SCENARIOS) if c.id == "openai.stream.text.001"]
    baseline = Baseline.load(path)
    adapter = load_adapter(ADAPTER)
    dropped = run_gateway(only, adapter, launcher("drop_usage"), baseline=baseline, transparency=False)
    assert (
        dropped.ok
        and dropped.get("openai.stream.text.001", "faulty/openai").verdict is Verdict.EXPECTED_FAILURE
    )
    faithful = run_gateway(only, adapter, launcher("faithful"), baseline=baseline, transparency=False)
    stale = faithful.get("openai.stream.text.001", "faulty/openai")
    assert not faithful.ok and stale.verdict is Verdict.FAIL and "stale baseline entry" in stale.message


def test_attach_to_a_separate_wirecheck_serve_through_its_control_endpoints() -> None:
    with BackgroundServer(None) as mock:
        result = run_variant("tool_index", mock_url=mock.url)
    assert failing(result) == EXPECTED["tool_index"]
    tool = result.get("openai.stream.tool_call.001", "faulty/openai")
    assert any(c.id == "upstream.auth" and c.status == "pass" for c in tool.checks)  # captures came back


def test_the_adapter_waives_checks_and_cases_with_its_reasons(tmp_path: Path) -> None:
    text = ADAPTER.read_text().replace(
        "not_applicable: []",
        "not_applicable:\n"
        "  - {case: openai.stream.tool_call.001, reason: not routed here}\n"
        "  - {case: 'openai.stream.**', checks: [stream.grammar.openai.tool_index], reason: renumbers on purpose}\n",
    )
    adapter_path = tmp_path / "faulty.yaml"
    adapter_path.write_text(text)
    _copy_gateway(tmp_path)
    adapter = load_adapter(adapter_path)
    result = run_gateway(load_paths(SCENARIOS), adapter, launcher("tool_index"), sdk=False)
    assert failing(result) == {}
    skipped = result.get("openai.stream.tool_call.001", "faulty/openai")
    assert skipped.verdict is Verdict.NOT_APPLICABLE and "not routed here" in skipped.message
    waived = result.get("openai.stream.parallel_tools.001", "faulty/openai")
    check = next(c for c in waived.checks if c.id == "stream.grammar.openai.tool_index")
    assert (
        waived.verdict is Verdict.PASS and check.status == "skip" and "renumbers on purpose" in check.message
    )


# --- the process ----------------------------------------------------------------------------------------------


def _with_command(command: list[str], **changes: Any) -> Any:
    return dataclasses.replace(load_adapter(ADAPTER), command=tuple(command), **changes)


def test_a_gateway_process_runs_the_suite_and_is_stopped(tmp_path: Path) -> None:
    adapter = load_adapter(ADAPTER)
    log = tmp_path / "gateway.log"
    cases = [c for c in load_paths(SCENARIOS) if c.id == "openai.stream.text.001"]
    result = run_gateway(cases, adapter, ProcessLauncher(adapter, log_path=log), sdk=False)
    assert result.ok, [r.summary() for r in result.results]
    assert [r.case_id for r in result.results] == ["openai.stream.text.001", PROBE]
    assert "faulty.py --port" in log.read_text()


def test_wirecheck_run_gateway_with_variants_runs_each_case_once_per_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _copy_gateway(tmp_path)
    (tmp_path / "faulty.yaml").write_text(ADAPTER.read_text())
    argv = ["run", "--gateway", str(tmp_path / "faulty.yaml"), "--scenarios", str(SCENARIOS[1]), "-k",
            "stream.text", "--no-sdk", "--no-transparency", "--json", str(tmp_path / "r.json")]  # fmt: skip
    assert main([*argv, "--variants", "crlf,split"]) == 0, capsys.readouterr()
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert sorted((r["case"], r["variant"]) for r in results) == [
        ("openai.stream.text.001", "crlf"),
        ("openai.stream.text.001", "split"),
    ]
    assert main([*argv, "--variants", "crlf,nonesuch"]) == 2
    assert "--variants: unknown variant 'nonesuch'" in capsys.readouterr().err


def test_a_gateway_that_never_becomes_ready_is_a_clear_error_within_the_timeout(tmp_path: Path) -> None:
    adapter = _with_command(["{{python}}", "-c", "import time; time.sleep(60)"], readiness_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(GatewayStartError) as info:
        run_gateway(load_paths(SCENARIOS), adapter, ProcessLauncher(adapter, log_path=tmp_path / "g.log"))
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "gateway 'faulty' was not ready within 1.5 s" in message and "/health" in message


def test_a_gateway_that_exits_before_it_is_ready_says_so_with_its_log(tmp_path: Path) -> None:
    adapter = _with_command(["{{python}}", "-c", "import sys; print('no config found'); sys.exit(3)"])
    with pytest.raises(GatewayStartError) as info:
        run_gateway(load_paths(SCENARIOS), adapter, ProcessLauncher(adapter, log_path=tmp_path / "g.log"))
    assert "exited with status 3 before it was ready" in str(info.value)
    assert "no config found" in str(info.value)


def test_a_missing_command_names_the_install_hint() -> None:
    adapter = _with_command(["wirecheck-no-such-gateway"], install="pip install no-such-gateway")
    with pytest.raises(GatewayStartError, match="not found on PATH; install it: pip install no-such-gateway"):
        run_gateway(load_paths(SCENARIOS), adapter, ProcessLauncher(adapter))


def test_a_gateway_that_dies_mid_run_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    adapter = load_adapter(ADAPTER)
    adapter = dataclasses.replace(adapter, command=(*adapter.command, "--die-after", "3"))
    started = time.monotonic()
    with pytest.raises(GatewayDied) as info:
        run_gateway(
            load_paths(SCENARIOS), adapter, ProcessLauncher(adapter, log_path=tmp_path / "g.log"), deadline=30
        )
    assert time.monotonic() - started < 20
    message = str(info.value)
    assert "gateway 'faulty'" in message and "exited with status 17" in message and "during case" in message


# --- the CLI ---------------------------------------------------------------------------------------------------


def test_wirecheck_run_gateway_writes_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--gateway", str(ADAPTER), "--scenarios", str(SCENARIOS[1]), "-k", "stream.text", "--no-sdk",
         "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"), "--matrix", str(tmp_path / "m.md"),
         "--gateway-doc", str(tmp_path / "doc.md"), "--gateway-log", str(tmp_path / "g.log")]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    data = json.loads((tmp_path / "r.json").read_text())
    assert {r["case"] for r in data["results"]} == {"openai.stream.text.001", PROBE}
    assert "sk-faulty-" not in (tmp_path / "r.json").read_text()  # the gateway key is scrubbed
    page = (tmp_path / "doc.md").read_text()
    assert page.startswith("# faulty 0: conformance deviations")
    assert f"(`nox -s gateway -- {ADAPTER}`)" in page  # a session that exists (noxfile.py: gateway)
    assert "gateway faulty ready at http://127.0.0.1:" in out.err


def test_gateway_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--gateway-url", "http://127.0.0.1:9"]) == 2
    assert "--gateway-adapter" in capsys.readouterr().err
    assert main(["run", "--gateway", str(ADAPTER), "--provider", "openai"]) == 2


# --- cases through a gateway -------------------------------------------------------------------------------------


def test_route_case_aliases_the_model_and_follows_the_expectations() -> None:
    adapter = load_adapter(ROOT / "gateways" / "litellm.yaml")
    case = next(
        c for c in load_paths([ROOT / "scenarios" / "upstream.yaml"]) if c.id == "upstream.chat.request.001"
    )
    gemini = route_case(case, adapter.models["gemini"])
    assert gemini.request["model"] == "wirecheck-gemini/gemini-2.5-flash"  # a gpt model becomes the default
    openai = route_case(case, adapter.models["openai"])
    assert openai.request["model"] == "wirecheck-openai/" + case.request["model"]
    assert openai.expect == case.expect  # the model reaches the upstream unchanged


def test_a_broken_upstream_must_reach_the_client_as_some_error() -> None:
    assert gateway_error({"kind": "transport", "reason": "disconnect", "raised": "iterator"}) == {}
    assert gateway_error({"kind": "upstream", "status": 429, "retry_after": 2, "raised": "call"}) == {
        "kind": "upstream",
        "status": 429,
        "retry_after": 2,
    }


# --- adapters ----------------------------------------------------------------------------------------------------

_GOOD = ADAPTER.read_text()


@pytest.mark.parametrize(
    ("change", "line", "field", "expected"),
    [
        (("readiness: {path: /health, timeout_s: 20}\n", ""), 3, "readiness", "a value (required)"),
        (('"{{port}}"', '"{{prot}}"'), 6, "command[3]", "placeholders among"),
        (("models: {openai: \"faulty/{{model}}\"}", "models: {openai: fixed-alias}"), 12, "models.openai",
         "an alias with {{model}}"),
        (("not_applicable: []", "not_applicable: [{case: x.y, upstream: [gemini], reason: r}]"), 14,
         "not_applicable[0].upstream", "upstream dialects the adapter routes to"),
        (("front_doors: {openai: {base_path: /v1}}", "front_doors: {openai: {base_path: v1}}"), 11,
         "front_doors.openai.base_path", "a string matching"),
        (("stop: {grace_s: 2}\n", ""), 0, "", ""),  # valid: stop is optional
    ],
)  # fmt: skip
def test_adapter_errors_name_the_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str, expected: str
) -> None:
    old, new = change
    path = tmp_path / "bad.yaml"
    assert old in _GOOD
    path.write_text(_GOOD.replace(old, new))
    if not field:
        load_adapter(path)
        return
    with pytest.raises(AdapterError) as info:
        load_adapter(path)
    error = info.value
    assert (error.source, error.line, error.field) == (str(path), line, field)
    assert expected in error.expected and str(error).startswith(f"{path}:{line}: {field}: expected")


def test_the_litellm_adapter_and_its_baseline_load() -> None:
    adapter = load_adapter(ROOT / "gateways" / "litellm.yaml")
    assert adapter.dialects == ["openai", "anthropic", "gemini", "azure"]
    assert adapter.baseline is not None and Baseline.load(adapter.baseline).entries is not None


def test_the_deviations_page_links_repository_documents_relative_to_itself() -> None:
    clause = {"spec": "contract", "ref": "Retries", "url": "docs/contract.md#retries"}
    assert docs._clause(clause) == "[contract: Retries](../contract.md#retries)"  # docs/gateways/<name>.md
    assert docs._clause(clause, page_dir=".") == "[contract: Retries](docs/contract.md#retries)"
    web = {"spec": "openai", "ref": "Errors", "url": "https://platform.openai.com/docs/guides/error-codes"}
    assert docs._clause(web) == f"[openai: Errors]({web['url']})"


# --- robustness: no gateway behaviour stops the run ----------------------------------------------------------


def test_every_request_to_the_gateway_goes_on_a_fresh_connection() -> None:
    """Each request goes on a fresh connection: a client that pooled them would send later requests on
    connections the gateway resets."""
    faulty._Counter.reused = 0
    result = run_variant("keepalive", transparency=False)
    assert failing(result) == {} and result.ok
    assert faulty._Counter.reused == 0


@pytest.mark.parametrize("variant", faulty.BROKEN_WIRE)
def test_a_gateway_that_breaks_the_wire_fails_its_cases_and_the_run_writes_its_report(
    variant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    adapter = load_adapter(ADAPTER)
    result = run_gateway(load_paths(SCENARIOS[1:]), adapter, launcher(variant), sdk=False)
    ran = [r for r in result.results if r.verdict is not Verdict.NOT_APPLICABLE]
    assert PROBE in {r.case_id for r in ran} and len(ran) >= 4  # every case ran, the paced probe too
    assert all(r.verdict is Verdict.FAIL for r in ran), [
        r.summary() for r in ran if r.verdict is not Verdict.FAIL
    ]

    code = main(
        ["run", "--gateway", str(_variant_adapter(tmp_path, variant)), "--scenarios", str(SCENARIOS[1]),
         "-k", "stream.text", "--no-sdk", "--json", str(tmp_path / "r.json"), "--summary", str(tmp_path / "s.txt")]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1, out.err
    data = json.loads((tmp_path / "r.json").read_text())
    assert {r["case"] for r in data["results"]} == {"openai.stream.text.001", PROBE}
    assert "fail" in (tmp_path / "s.txt").read_text()


def _copy_gateway(folder: Path) -> None:
    """faulty.py and the server plumbing it imports, into ``folder`` (to run from there as a script)."""
    for name in ("faulty.py", "http11.py"):
        (folder / name).write_text((HERE / name).read_text())


def _variant_adapter(folder: Path, variant: str) -> Path:
    """The faulty adapter, its process started with ``--variant``."""
    _copy_gateway(folder)
    path = folder / "faulty.yaml"
    path.write_text(
        _GOOD.replace('--key, "{{master_key}}"]', f'--key, "{{{{master_key}}}}", --variant, {variant}]')
    )
    return path


def test_a_gateway_that_dies_mid_run_still_gets_every_report_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _copy_gateway(tmp_path)
    adapter = tmp_path / "faulty.yaml"
    adapter.write_text(
        _GOOD.replace('--key, "{{master_key}}"]', '--key, "{{master_key}}", --die-after, "4"]')
    )
    code = main(
        ["run", "--gateway", str(adapter), "--scenarios", str(SCENARIOS[0]), "--no-sdk",
         "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"), "--summary", str(tmp_path / "s.txt")]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1 and "exited with status 17" in out.err
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    stopped = [r for r in results if r["verdict"] == "error"]
    assert len(stopped) == 1 and "the run stopped during this case" in stopped[0]["message"]
    # the door probe and a case (with its twin), then the case it died on
    assert [r["verdict"] for r in results] == ["pass", "error"]
    assert "exited with status 17" in (tmp_path / "r.xml").read_text()
    assert "the run stopped early" in (tmp_path / "s.txt").read_text()


# --- adapters for any gateway ---------------------------------------------------------------------------------

EXAMPLE = ROOT / "gateways" / "examples" / "header-routed.yaml"


def test_a_header_routed_gateway_passes_the_openai_chat_family_through_the_example_adapter() -> None:
    adapter = load_adapter(EXAMPLE)
    assert adapter.models["openai"].headers["x-upstream-url"] == "{{upstream.url}}"
    cases = load_paths(
        [ROOT / "scenarios" / name for name in ("openai_chat.yaml", "anthropic_messages.yaml")]
    )
    result = run_gateway(
        cases, adapter, launcher("header_routed"), sdk=True, transparency=False, profile="spec"
    )
    chat = [
        r
        for r in result.results
        if r.provider == "header-routed/openai" and r.case_id.startswith("openai.chat.")
    ]
    assert len(chat) >= 5 and all(r.verdict is Verdict.PASS for r in chat), [r.summary() for r in chat]
    # the fake has no Anthropic door: the probe's 404 is the evidence
    anthropic = [r for r in result.results if r.method.startswith("anthropic_messages")]
    assert anthropic and all(r.verdict is Verdict.NOT_APPLICABLE for r in anthropic)
    assert "has no anthropic front door (the door probe POST" in anthropic[0].message
    assert "answered 404" in anthropic[0].message


def test_without_its_headers_the_header_routed_gateway_fails_every_case() -> None:
    """The test above passes because the route's headers reach the gateway."""
    adapter = load_adapter(EXAMPLE)
    bare = dataclasses.replace(adapter.models["openai"], headers={})
    adapter = dataclasses.replace(adapter, models={**adapter.models, "openai": bare})
    cases = [
        c for c in load_paths([ROOT / "scenarios" / "openai_chat.yaml"]) if c.id == "openai.chat.text.001"
    ]
    result = run_gateway(cases, adapter, launcher("header_routed"), sdk=False, transparency=False)
    assert result.get("openai.chat.text.001", "header-routed/openai").verdict is Verdict.FAIL


def test_capabilities_and_routes_make_cases_not_applicable_without_listing_ids() -> None:
    adapter = load_adapter(EXAMPLE)
    cases = [c for c in load_paths([ROOT / "scenarios" / "openai_media.yaml"]) if c.method != "embedding"][:6]
    assert {c.method for c in cases} & {"image_generation", "audio_speech", "audio_transcription"}
    result = run_gateway(cases, adapter, launcher("header_routed"), sdk=False, transparency=False)
    for r in result.results:
        assert r.verdict is Verdict.NOT_APPLICABLE, r.summary()
        assert (
            "the adapter's capabilities" in r.message or "does not reach its anthropic upstream" in r.message
        )


def test_config_files_may_live_in_folders_under_tmp(tmp_path: Path) -> None:
    text = _GOOD.replace(
        "not_applicable: []", "config: [{file: conf/deep/gateway.toml, template: 'key = \"{{master_key}}\"'}]"
    )
    path = tmp_path / "faulty.yaml"
    path.write_text(text)
    _copy_gateway(tmp_path)
    adapter = load_adapter(path)
    launcher = ProcessLauncher(adapter, log_path=tmp_path / "g.log", keep_tmp=True)
    cases = [c for c in load_paths([SCENARIOS[0]]) if c.id == "openai.chat.text.001"]
    seen: list[RunningGateway] = []
    result = run_gateway(
        cases, adapter, launcher, sdk=False, transparency=False, on_ready=lambda g, u: seen.append(g)
    )
    assert result.ok
    assert (seen[0].tmp / "conf" / "deep" / "gateway.toml").read_text().startswith('key = "sk-faulty-')


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("front_doors: {openai: {base_path: /v1}}",
         "front_doors: {openai: {base_path: /v1, headers: {x-up: '{{upstream.prot}}'}}}", 11,
         "front_doors.openai.headers.x-up"),
        ('models: {openai: "faulty/{{model}}"}',
         'models:\n  openai:\n    alias: "faulty/{{model}}"\n    headers: {x-up: "{{modle}}"}', 15,
         "models.openai.headers.x-up"),
        ('models: {openai: "faulty/{{model}}"}',
         'models: {openai: {alias: "faulty/{{model}}", doors: [gemini]}}', 12, "models.openai.doors[0]"),
        ("not_applicable: []", "config: [{file: ../outside.yaml, template: x}]", 14, "config[0].file"),
    ],
)  # fmt: skip
def test_template_and_route_errors_are_found_at_load_time(
    tmp_path: Path, old: str, new: str, line: int, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(_GOOD.replace(old, new))
    with pytest.raises(AdapterError) as info:
        load_adapter(path)
    assert (info.value.line, info.value.field) == (line, field), str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: {field}: expected")


def test_the_upstream_url_placeholder_in_a_door_header_now_loads_and_renders() -> None:
    adapter = load_adapter(EXAMPLE)
    (put,) = [p for p in gateway_providers(adapter, "http://127.0.0.1:9", {"upstream.openai": "http://m/v1"})
              if p.upstream_dialect == "openai"]  # fmt: skip
    values = put.cls.for_model("gpt-4o").header_values("k")
    assert values["upstream.url"] == "http://m/v1" and values["upstream.dialect"] == "openai"
    assert values["model"] == "gpt-4o"
