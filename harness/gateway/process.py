"""Gateway processes: start one from its adapter, wait until it is ready, watch it, stop it.

A launcher turns the mock upstreams' URLs into a ``RunningGateway`` (its URL and the key clients send):

- ``ProcessLauncher`` (``wirecheck run --gateway ADAPTER.yaml``) renders the adapter's templates, writes
  its config files to a fresh temporary directory, starts the command under the supervisor
  (``harness.gateway.supervisor``: it ends the gateway's whole process tree, workers that left the
  process group included, when wirecheck stops it, exits, is interrupted or is killed, even by SIGKILL,
  and then removes the temporary directory) with stdout and stderr in a log file, and polls the
  readiness path until it answers the expected status. A process that exits first, a command that is not
  on PATH, and a gateway that is not ready within ``timeout_s`` are ``GatewayStartError``s that name the
  gateway and quote the end of its log. Once ready, a watcher task waits on the process: if it exits
  before wirecheck stops it, ``died`` is set and the runner's ``on_death`` callbacks cancel the case in
  flight, which the runner reports as ``GatewayDied`` (never a hang). ``stop`` closes the supervisor's
  control pipe: SIGTERM to the tree, SIGKILL to what is left after the grace period; then any process of
  the tree still there (the supervisor itself killed) gets SIGKILL from wirecheck, and the temporary
  directory is removed (unless ``keep_tmp``).
- ``AttachLauncher`` (``--gateway-url URL --gateway-adapter ADAPTER.yaml``) starts nothing: it checks that
  the readiness path answers and hands the URL on. Its gateway was configured by the user, with its
  upstreams pointed at the URLs ``wirecheck serve`` (or ``--mock-port``) serves. Death is found by
  probing the readiness path again after a call that could not connect.

Only processes wirecheck started (the supervisor and its descendants) are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import trio

from harness.gateway.adapter import Adapter, TemplateError, render
from harness.gateway.supervisor import alive, descendants

__all__ = [
    "AttachLauncher",
    "GatewayDied",
    "GatewayError",
    "GatewayStartError",
    "Launcher",
    "ProcessLauncher",
    "RunningGateway",
    "free_port",
    "probe",
]


class GatewayError(RuntimeError):
    """The gateway under test could not be used: it did not start, is not ready, or died. ``result``: what
    the run collected before it stopped (with the interruption recorded as an error result), if it got
    that far; reports are written from it."""

    result: Any = None


class GatewayStartError(GatewayError):
    """The gateway did not become ready."""


class GatewayDied(GatewayError):
    """The gateway stopped during the run."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (bound and released: a small race, fine on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tail(path: Path | None, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, indented, or a note that there is none."""
    if path is None:
        return "    (no log)"
    try:
        text = path.read_bytes()[-16384:].decode("utf-8", "replace")
    except OSError:
        return f"    (no log at {path})"
    shown = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join("    " + line for line in shown) or "    (the log is empty)"


async def probe(client: Any, url: str, headers: Mapping[str, str] | None = None) -> str | int:
    """GET ``url`` once: its status, or why it could not be had."""
    import httpx

    try:
        response = await client.get(url, headers=dict(headers or {}), timeout=2.0)
        return response.status_code
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


#: Seconds a gateway process that stopped answering is given for its exit to be reported.
DEATH_NOTICE = 2.0


@dataclass
class RunningGateway:
    """A gateway ready for requests: its base ``url``, the ``master_key`` clients send, and how to stop it.
    ``died`` is set (and ``death`` says how) when it stops on its own; ``on_death`` callbacks run then."""

    name: str
    url: str
    master_key: str | None
    log_path: Path | None = None
    pid: int | None = None
    death: str | None = None
    died: trio.Event = field(default_factory=trio.Event)
    on_death: list[Callable[[], None]] = field(default_factory=list)
    readiness_url: str | None = None
    readiness_status: int = 200
    readiness_headers: Mapping[str, str] = field(default_factory=dict)
    _stop: Callable[[], Any] | None = None
    tmp: Path | None = None
    #: The template values of the run (``harness.gateway.adapter``): request headers are rendered with them.
    values: Mapping[str, str] = field(default_factory=dict)

    def mark_dead(self, why: str) -> None:
        if self.died.is_set():
            return
        self.death = why
        self.died.set()
        for callback in list(self.on_death):
            callback()

    def died_error(self, during: str | None = None) -> GatewayDied:
        where = f" during {during}" if during else ""
        log = f"\n  log {self.log_path}, last lines:\n{tail(self.log_path)}" if self.log_path else ""
        return GatewayDied(f"gateway {self.name!r} ({self.url}) {self.death}{where}{log}")

    async def still_alive(self, client: Any) -> bool:
        """Whether the gateway still answers its readiness path (asked after a case that did not pass). An
        attached gateway that does not is marked dead; for a process, its end is the word: it is waited for
        up to ``DEATH_NOTICE`` seconds (its exit reaches wirecheck a moment after its connections break)."""
        if self.died.is_set():
            return False
        if self.readiness_url is None:
            return True
        got = await probe(client, self.readiness_url, self.readiness_headers)
        if got == self.readiness_status:
            return True
        if self.pid is not None:
            with trio.move_on_after(DEATH_NOTICE):
                await self.died.wait()
            return not self.died.is_set()
        self.mark_dead(f"stopped answering: GET {self.readiness_url} → {got}")
        return False

    async def stop(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            with trio.CancelScope(shield=True):
                await stop()


class Launcher(Protocol):
    """Starts (or finds) a gateway whose upstreams are the given mock URLs."""

    name: str

    async def start(
        self, nursery: trio.Nursery, upstreams: Mapping[str, str], upstream_key: str, client: Any
    ) -> RunningGateway: ...


def template_values(
    *,
    port: int,
    host: str,
    tmp: Path,
    master_key: str,
    upstreams: Mapping[str, str],
    upstream_key: str,
    random: str,
    adapter_dir: str = ".",
) -> dict[str, str]:
    values = {
        "adapter_dir": adapter_dir,
        "port": str(port),
        "host": host,
        "url": f"http://{host}:{port}",
        "tmp": str(tmp),
        "master_key": master_key,
        "upstream_key": upstream_key,
        "python": sys.executable,
        "random": random,
    }
    values.update({f"upstream.{dialect}": url for dialect, url in upstreams.items()})
    return values


def attached_values(
    url: str, master_key: str, upstreams: Mapping[str, str], upstream_key: str, source: str
) -> dict[str, str]:
    """The template values of a gateway someone else started: what wirecheck knows of it (its URL, key and
    the mock's upstream URLs); ``tmp`` and ``random`` are wirecheck's own, unused by that gateway."""
    import httpx

    parsed = httpx.URL(url)
    return template_values(
        port=parsed.port or 80, host=parsed.host, tmp=Path(tempfile.gettempdir()), master_key=master_key,
        upstreams=upstreams, upstream_key=upstream_key, random=secrets.token_hex(8),
        adapter_dir=str(Path(source).resolve().parent),
    ) | {"url": url}  # fmt: skip


async def wait_ready(
    gateway: RunningGateway, client: Any, timeout: float, exited: Callable[[], int | None] | None = None
) -> None:
    """Poll the readiness URL until it answers the expected status; ``GatewayStartError`` when the
    process exits first (``exited`` returns its status) or ``timeout`` passes."""
    assert gateway.readiness_url is not None
    started = trio.current_time()
    last: str | int = "not tried"
    delay = 0.05
    while True:
        code = exited() if exited is not None else None
        if code is not None:
            raise GatewayStartError(
                f"gateway {gateway.name!r} exited with status {code} before it was ready "
                f"(GET {gateway.readiness_url} never answered {gateway.readiness_status})\n"
                f"  log {gateway.log_path}, last lines:\n{tail(gateway.log_path)}"
            )
        last = await probe(client, gateway.readiness_url, gateway.readiness_headers)
        if last == gateway.readiness_status:
            return
        waited = trio.current_time() - started
        if waited >= timeout:
            log = (
                f"\n  log {gateway.log_path}, last lines:\n{tail(gateway.log_path)}"
                if gateway.log_path
                else ""
            )
            raise GatewayStartError(
                f"gateway {gateway.name!r} was not ready within {timeout:g} s: GET {gateway.readiness_url} "
                f"→ {last} (expected {gateway.readiness_status}){log}"
            )
        await trio.sleep(min(delay, max(0.0, timeout - waited)))
        delay = min(delay * 2, 0.5)


class ProcessLauncher:
    """Starts the adapter's command (see the module docstring). ``log_path``: where its output goes
    (default: ``gateway.log`` in the temporary directory, removed with it); ``keep_tmp``: leave the
    directory (its config files and log) in place after ``stop``."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        host: str = "127.0.0.1",
        log_path: str | Path | None = None,
        keep_tmp: bool = False,
        master_key: str | None = None,
        readiness_timeout: float | None = None,
    ) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self.host = host
        self.log_path = Path(log_path) if log_path else None
        self.keep_tmp = keep_tmp
        self.master_key = master_key
        self.readiness_timeout = readiness_timeout or adapter.readiness_timeout

    def _render(self, template: str, values: Mapping[str, str], field_name: str) -> str:
        try:
            return render(template, values)
        except TemplateError as exc:  # load_adapter checks names, so only a hand-built Adapter gets here
            raise GatewayStartError(
                f"{self.adapter.source}: {field_name}: unknown placeholder {{{{{exc.args[0]}}}}}"
            ) from None

    async def start(
        self, nursery: trio.Nursery, upstreams: Mapping[str, str], upstream_key: str, client: Any
    ) -> RunningGateway:
        a = self.adapter
        tmp = Path(tempfile.mkdtemp(prefix=f"wirecheck-{a.name}-"))
        try:
            port = a.port or free_port(self.host)
            random = secrets.token_hex(8)
            base = template_values(
                port=port, host=self.host, tmp=tmp, master_key="", upstreams=upstreams,
                upstream_key=upstream_key, random=random, adapter_dir=str(Path(a.source).resolve().parent),
            )  # fmt: skip
            master_key = self.master_key or (
                self._render(a.master_key, base, "master_key") if a.master_key else None
            )
            values = {**base, "master_key": master_key or ""}
            for name, template in a.config:
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_text(self._render(template, values, f"config {name}"), encoding="utf-8")
            argv = [self._render(item, values, f"command[{i}]") for i, item in enumerate(a.command)]
            env = dict(os.environ)
            env.update({k: self._render(v, values, f"env.{k}") for k, v in a.env.items()})
            found = shutil.which(argv[0], path=env.get("PATH"))
            if found is None:
                hint = f"; install it: {a.install}" if a.install else ""
                raise GatewayStartError(f"gateway {a.name!r}: command {argv[0]!r} not found on PATH{hint}")
            argv[0] = found
            log_path = self.log_path or tmp / "gateway.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(log_path, "wb")  # noqa: SIM115 - the child writes to it until it is stopped
            log.write(
                f"# wirecheck: {' '.join(argv)}\n# started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode()
            )
            log.flush()
        except BaseException:
            _remove(tmp, self.keep_tmp)
            raise
        supervised = [sys.executable, "-I", str(SUPERVISOR), "--grace", repr(float(a.stop_grace))]
        if not self.keep_tmp:
            supervised += ["--remove", str(tmp)]
        # The control pipe: only wirecheck holds its write end (os.pipe's ends are not inherited by other
        # programs wirecheck starts), so it closes when wirecheck stops the gateway or dies in any way.
        # The status pipe: the supervisor writes the gateway's exit code to it the moment the gateway ends.
        control, control_write = os.pipe()
        status_read, status_write = os.pipe()
        try:
            process = await trio.lowlevel.open_process(
                [*supervised, "--status-fd", str(status_write), "--", *argv],
                stdin=control,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(tmp),
                env=env,
                start_new_session=True,
                pass_fds=(status_write,),
            )
        except OSError as exc:
            log.close()
            os.close(control_write)
            os.close(status_read)
            _remove(tmp, self.keep_tmp)
            raise GatewayStartError(f"gateway {a.name!r}: cannot run {argv[0]}: {exc}") from None
        finally:
            os.close(control)
            os.close(status_write)
        log.close()  # the child holds its own copy

        stopping = False

        async def stop() -> None:
            nonlocal stopping
            stopping = True
            await _terminate(process, control_write, a.stop_grace)
            _remove(tmp, self.keep_tmp)

        gateway = RunningGateway(
            a.name,
            f"http://{self.host}:{port}",
            master_key,
            log_path=log_path,
            pid=process.pid,
            readiness_url=f"http://{self.host}:{port}{a.readiness_path}",
            readiness_status=a.readiness_status,
            readiness_headers={
                k: self._render(v, values, f"readiness.headers.{k}") for k, v in a.readiness_headers.items()
            },
            _stop=stop,
            tmp=tmp,
            values=values,
        )
        ended: list[int] = []  # the gateway's exit code, once it ended

        async def watch() -> None:
            """The status pipe until it closes: the gateway's exit code, or the supervisor's own."""
            received = b""
            async with trio.lowlevel.FdStream(status_read) as status:
                while chunk := await status.receive_some(64):
                    received += chunk
            try:
                code = int(received.strip())
            except ValueError:  # the supervisor ended without a word: stopped, or killed itself
                code = await process.wait()
            ended.append(code)
            if not stopping:
                how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                gateway.mark_dead(f"(pid {process.pid}) {how}")

        nursery.start_soon(watch)
        try:
            await wait_ready(
                gateway, client, self.readiness_timeout, exited=lambda: ended[0] if ended else None
            )
        except BaseException:
            await gateway.stop()
            raise
        return gateway


#: The supervisor script, run by path with ``python -I`` (stdlib only, whatever the gateway's environment).
SUPERVISOR = Path(__file__).with_name("supervisor.py")


def _remove(tmp: Path, keep: bool) -> None:
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


async def _terminate(process: trio.Process, control: int, grace: float) -> None:
    """Close the supervisor's control pipe (it ends the tree: SIGTERM, ``grace`` seconds, SIGKILL) and wait
    for it; a supervisor that does not end in time is killed, and so is every process of the tree it had."""
    with trio.CancelScope(shield=True):
        tree = [(pid, _start_time(pid)) for pid in descendants(process.pid)]
        with contextlib.suppress(OSError):
            os.close(control)
        if process.returncode is None:
            with trio.move_on_after(grace + 5.0):
                await process.wait()
            if process.returncode is None:
                _signal_group(process.pid, signal.SIGKILL)
                await process.wait()
        for pid, started in tree:  # the supervisor could not finish: nothing of its tree may stay
            if started is not None and _start_time(pid) == started and alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


def _start_time(pid: int) -> str | None:
    """The start time of ``pid`` (``/proc/PID/stat`` field 22), to tell it from a later process with its id."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()[19]


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class AttachLauncher:
    """A gateway someone else started, at ``url``; its readiness path is probed once (``timeout`` s)."""

    def __init__(
        self, adapter: Adapter, url: str, *, master_key: str | None = None, timeout: float = 10.0
    ) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self.url = url.rstrip("/")
        self.master_key = master_key
        self.timeout = timeout

    async def start(
        self, nursery: trio.Nursery, upstreams: Mapping[str, str], upstream_key: str, client: Any
    ) -> RunningGateway:
        a = self.adapter
        key = self.master_key
        if key is None and a.master_key is not None:
            if "{{" in a.master_key:
                raise GatewayStartError(
                    f"gateway {a.name!r}: attach mode needs the gateway's key: its adapter's master_key "
                    f"({a.master_key}) is a template; pass --gateway-key"
                )
            key = a.master_key
        gateway = RunningGateway(
            a.name,
            self.url,
            key,
            readiness_url=self.url + a.readiness_path,
            readiness_status=a.readiness_status,
            readiness_headers={
                k: render(v, {"master_key": key or ""}) for k, v in a.readiness_headers.items()
            },
            values=attached_values(self.url, key or "", upstreams, upstream_key, a.source),
        )
        await wait_ready(gateway, client, self.timeout)
        return gateway
